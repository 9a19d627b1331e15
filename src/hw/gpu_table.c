/* gpu_table.c: the built-in GPU table. Dense (non-sparse) peaks from the vendors' datasheets;
 * where a datasheet quotes "with sparsity", the dense figure is half of it. */
#include <cjson/cJSON.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/util.h"
#include "gpu.h"

const char *const rl_dtype_names[RL_DT_COUNT] = {"fp32", "tf32", "bf16", "fp16", "fp8", "int8"};

int rl_dtype_from_name(const char *name)
{
    for (int i = 0; i < RL_DT_COUNT; i++)
        if (rl_name_eq(name, rl_dtype_names[i])) return i;
    return -1;
}

/* Tensor parallel links, GB/s in each direction (datasheets quote both directions together):
 * NVLink 4 (H100/H200 SXM) 900 GB/s -> 450, NVLink 3 (A100 SXM) 600 -> 300, NVLink 5 (B200)
 * 1.8 TB/s -> 900; parts without NVLink use PCIe x16 (Gen4 64 GB/s -> 32, Gen5 128 -> 64; the
 * PCIe cards' NVLink bridge joins pairs only). nccl-tests on 8x H100 SXM reach ~460 GB/s bus
 * bandwidth at large sizes. All-reduce latency: a default of 10 us over NVLink and 25 us over
 * PCIe, the order of NCCL's small-message all-reduce on 8 GPUs; measured values come with the
 * multi-GPU work (--allreduce-us or the roofs JSON override them). */
#define NVLINK4 450, 10, "NVLink 4: 900 GB/s both directions"
#define NVLINK3 300, 10, "NVLink 3: 600 GB/s both directions"
#define NVLINK5 900, 10, "NVLink 5: 1.8 TB/s both directions"
#define PCIE4 32, 25, "PCIe Gen4 x16: 64 GB/s both directions (no NVLink switch)"
#define PCIE5 64, 25, "PCIe Gen5 x16: 128 GB/s both directions (NVLink bridge pairs only)"

/*                 fp32    tf32     bf16     fp16     fp8     int8 (tera-ops) */
static const rl_gpu builtin_gpus[] = {
    {"H200", "H200-SXM,H200 SXM 141GB,NVIDIA H200", 4800, {67, 494.5, 989, 989, 1979, 1979}, 141,
     "NVIDIA H200 Tensor Core GPU datasheet (SXM): 4.8 TB/s; sparsity peaks halved (fp8 3,958, int8 3,958 TOPS)",
     NVLINK4},
    {"H100", "H100-SXM,H100-SXM5,H100 80GB HBM3,NVIDIA H100", 3350, {67, 494.5, 989, 989, 1979, 1979}, 80,
     "NVIDIA H100 Tensor Core GPU datasheet (SXM5): 3.35 TB/s; sparsity peaks halved (fp8 3,958, int8 3,958 TOPS)",
     NVLINK4},
    {"H100-PCIe", "H100 PCIe,NVIDIA H100 PCIe", 2000, {51, 378, 756, 756, 1513, 1513}, 80,
     "NVIDIA H100 Tensor Core GPU datasheet (PCIe): 2.0 TB/s; sparsity peaks halved (fp8 3,026, int8 3,026 TOPS)",
     PCIE5},
    {"A100-PCIe", "A100 PCIe,A100-PCIE-80GB,NVIDIA A100 80GB PCIe", 1935, {19.5, 156, 312, 312, 0, 624}, 80,
     "NVIDIA A100 Tensor Core GPU datasheet (80GB PCIe): 1,935 GB/s; no fp8; int8 624 TOPS dense", PCIE4},
    {"A100-SXM", "A100 SXM,A100-SXM4-80GB,NVIDIA A100-SXM4-80GB", 2039, {19.5, 156, 312, 312, 0, 624}, 80,
     "NVIDIA A100 Tensor Core GPU datasheet (80GB SXM): 2,039 GB/s; no fp8; int8 624 TOPS dense", NVLINK3},
    {"A100-PCIe-40GB", "A100 PCIe 40GB,A100-PCIE-40GB,NVIDIA A100-PCIE-40GB", 1555, {19.5, 156, 312, 312, 0, 624}, 40,
     "NVIDIA A100 Tensor Core GPU datasheet (40GB PCIe): 1,555 GB/s; no fp8; int8 624 TOPS dense", PCIE4},
    {"A100-SXM-40GB", "A100 SXM 40GB,A100-SXM4-40GB,NVIDIA A100-SXM4-40GB", 1555, {19.5, 156, 312, 312, 0, 624}, 40,
     "NVIDIA A100 Tensor Core GPU datasheet (40GB SXM): 1,555 GB/s; no fp8; int8 624 TOPS dense", NVLINK3},
    {"L40S", "NVIDIA L40S", 864, {91.6, 183, 362, 362, 733, 733}, 48,
     "NVIDIA L40S datasheet: 864 GB/s GDDR6; sparsity peaks halved (fp8 1,466, int8 1,466 TOPS)", PCIE4},
    {"L4", "NVIDIA L4", 300, {30.3, 60, 121, 121, 242.5, 242.5}, 24,
     "NVIDIA L4 datasheet: 300 GB/s GDDR6; sparsity peaks halved (fp8 485, int8 485 TOPS)", PCIE4},
    {"RTX-4090", "RTX 4090,GeForce RTX 4090,NVIDIA GeForce RTX 4090", 1008, {82.6, 82.6, 165.2, 165.2, 330.3, 660.6},
     24,
     "NVIDIA Ada GPU architecture whitepaper (RTX 4090): 1,008 GB/s; tensor peaks with fp32 accumulate; int8 660.6 "
     "TOPS dense",
     PCIE4},
    {"B200", "B200-SXM,NVIDIA B200", 8000, {75, 1100, 2250, 2250, 4500, 4500}, 180,
     "NVIDIA HGX B200 datasheet, per GPU: 8 TB/s; sparsity peaks halved (fp8 9, int8 9 POPS)", NVLINK5},
};

static int parse_gpu_row(const cJSON *row, const char *file, int idx, rl_gpu *g, rl_err *err)
{
    memset(g, 0, sizeof *g);
    char where[600];
    snprintf(where, sizeof where, "%s: GPU #%d", file, idx);
    const cJSON *name = cJSON_GetObjectItemCaseSensitive(row, "name");
    if (!cJSON_IsString(name) || !name->valuestring[0] || strlen(name->valuestring) >= sizeof g->name)
        return rl_fail(err, "%s: field 'name' must be a non-empty string under %zu characters", where,
                       sizeof g->name);
    snprintf(g->name, sizeof g->name, "%s", name->valuestring);
    snprintf(where, sizeof where, "%s: GPU '%s'", file, g->name);
    if (rl_json_get_f64(row, where, "bandwidth_gbps", 1, 0, &g->bandwidth_gbps, err)) return -1;
    /* Bounds far above any GPU, so a typo fails here instead of overflowing ridges and chart scales. */
    if (!(g->bandwidth_gbps > 0 && g->bandwidth_gbps <= 1e6))
        return rl_fail(err, "%s: field 'bandwidth_gbps' must be in (0, 1e6] GB/s", where);
    if (rl_json_get_f64(row, where, "memory_gb", 0, 0, &g->memory_gb, err)) return -1;
    if (!(g->memory_gb >= 0 && g->memory_gb <= 1e6)) return rl_fail(err, "%s: field 'memory_gb' must be in [0, 1e6]", where);
    const cJSON *peaks = cJSON_GetObjectItemCaseSensitive(row, "peak_tflops");
    if (!cJSON_IsObject(peaks)) return rl_fail(err, "%s: field 'peak_tflops' must be an object keyed by dtype", where);
    const cJSON *it;
    cJSON_ArrayForEach(it, peaks)
    {
        int dt = rl_dtype_from_name(it->string);
        if (dt < 0)
            return rl_fail(err, "%s: unknown dtype '%s' in peak_tflops (known: fp32, tf32, bf16, fp16, fp8, int8)", where,
                           it->string);
        if (!cJSON_IsNumber(it) || !(it->valuedouble >= 0 && it->valuedouble <= 1e6))
            return rl_fail(err, "%s: peak_tflops.%s must be a number in [0, 1e6]", where, it->string);
        g->peak_tflops[dt] = it->valuedouble;
    }
    if (g->peak_tflops[RL_DT_BF16] <= 0 && g->peak_tflops[RL_DT_FP16] <= 0 && g->peak_tflops[RL_DT_FP32] <= 0)
        return rl_fail(err, "%s: peak_tflops needs at least one of bf16, fp16, fp32", where);
    if (rl_json_get_f64(row, where, "interconnect_gbps", 0, 0, &g->link_gbps, err)) return -1;
    if (rl_json_get_f64(row, where, "allreduce_latency_us", 0, 0, &g->allreduce_us, err)) return -1;
    if (g->link_gbps < 0 || g->allreduce_us < 0)
        return rl_fail(err, "%s: fields 'interconnect_gbps' and 'allreduce_latency_us' must be >= 0", where);
    if (g->link_gbps > 0) snprintf(g->link_source, sizeof g->link_source, "%s", file);
    const cJSON *al = cJSON_GetObjectItemCaseSensitive(row, "aliases");
    if (cJSON_IsString(al)) snprintf(g->aliases, sizeof g->aliases, "%s", al->valuestring);
    const cJSON *src = cJSON_GetObjectItemCaseSensitive(row, "source");
    snprintf(g->source, sizeof g->source, "%s", cJSON_IsString(src) ? src->valuestring : file);
    return 0;
}

static int find_index(const rl_gpu_table *t, const char *name)
{
    for (int i = 0; i < t->n; i++)
        if (rl_name_eq(t->gpus[i].name, name)) return i;
    return -1;
}

int rl_gpu_table_load(const char *gpu_file, rl_gpu_table *out, rl_err *err)
{
    int nb = (int)(sizeof builtin_gpus / sizeof builtin_gpus[0]);
    out->gpus = malloc(sizeof(rl_gpu) * (size_t)nb);
    if (!out->gpus) return rl_fail(err, "out of memory");
    memcpy(out->gpus, builtin_gpus, sizeof builtin_gpus);
    out->n = nb;
    if (!gpu_file) return 0;
    cJSON *root = rl_json_load(gpu_file, err);
    if (!root) goto fail;
    const cJSON *arr = cJSON_IsArray(root) ? root : cJSON_GetObjectItemCaseSensitive(root, "gpus");
    if (!cJSON_IsArray(arr)) {
        rl_fail(err, "%s: expected a JSON array of GPU objects (or an object with 'gpus')", gpu_file);
        cJSON_Delete(root);
        goto fail;
    }
    int idx = 0;
    const cJSON *row;
    cJSON_ArrayForEach(row, arr)
    {
        rl_gpu g;
        if (parse_gpu_row(row, gpu_file, idx++, &g, err)) {
            cJSON_Delete(root);
            goto fail;
        }
        int at = find_index(out, g.name);
        if (at >= 0) {
            if (g.link_gbps <= 0) { /* a row that restates the HBM and peaks keeps the table's link */
                g.link_gbps = out->gpus[at].link_gbps;
                if (g.allreduce_us <= 0) g.allreduce_us = out->gpus[at].allreduce_us;
                snprintf(g.link_source, sizeof g.link_source, "%s", out->gpus[at].link_source);
            }
            out->gpus[at] = g;
            continue;
        }
        rl_gpu *grown = realloc(out->gpus, sizeof(rl_gpu) * (size_t)(out->n + 1));
        if (!grown) {
            cJSON_Delete(root);
            rl_fail(err, "out of memory");
            goto fail;
        }
        out->gpus = grown;
        out->gpus[out->n++] = g;
    }
    cJSON_Delete(root);
    return 0;
fail:
    rl_gpu_table_free(out);
    return -1;
}

void rl_gpu_table_free(rl_gpu_table *t)
{
    free(t->gpus);
    t->gpus = NULL;
    t->n = 0;
}

static int alias_match(const char *aliases, const char *name)
{
    char buf[sizeof ((rl_gpu *)0)->aliases];
    snprintf(buf, sizeof buf, "%s", aliases);
    for (char *tok = strtok(buf, ","); tok; tok = strtok(NULL, ","))
        if (rl_name_eq(tok, name)) return 1;
    return 0;
}

const rl_gpu *rl_gpu_find(const rl_gpu_table *t, const char *name, rl_err *err)
{
    for (int i = 0; i < t->n; i++)
        if (rl_name_eq(t->gpus[i].name, name)) return &t->gpus[i];
    for (int i = 0; i < t->n; i++)
        if (alias_match(t->gpus[i].aliases, name)) return &t->gpus[i];
    char known[1024] = "";
    for (int i = 0; i < t->n; i++) {
        strncat(known, t->gpus[i].name, sizeof known - strlen(known) - 1);
        if (i + 1 < t->n) strncat(known, ", ", sizeof known - strlen(known) - 1);
    }
    rl_fail(err, "unknown GPU '%s' (known: %s; add one with --gpu-file)", name, known);
    return NULL;
}

/* Splits a name into upper-case words at ' ', '-' and '_': "NVIDIA A100-PCIE-40GB" -> NVIDIA,
 * A100, PCIE, 40GB. Returns the number of words (at most max; longer words are cut). */
#define NAME_WORDS 12
#define WORD_CHARS 16
static int name_words(const char *s, char w[][WORD_CHARS], int max)
{
    int n = 0;
    while (*s && n < max) {
        while (*s == ' ' || *s == '-' || *s == '_') s++;
        if (!*s) break;
        int k = 0;
        for (; *s && *s != ' ' && *s != '-' && *s != '_'; s++)
            if (k + 1 < WORD_CHARS) w[n][k++] = (char)toupper((unsigned char)*s);
        w[n++][k] = 0;
    }
    return n;
}

/* A table word matches a device word when they are equal; "SXM" also matches the driver's
 * "SXM4" / "SXM5" (the form factor with its generation). */
static int word_match(const char *row, const char *dev)
{
    if (!strcmp(row, dev)) return 1;
    return !strcmp(row, "SXM") && !strncmp(dev, "SXM", 3) && isdigit((unsigned char)dev[3]) && !dev[4];
}

/* Driver names look like "NVIDIA H100 80GB HBM3", "NVIDIA A100-PCIE-40GB", "NVIDIA A100 80GB PCIe"
 * or "NVIDIA GeForce RTX 4090": a row matches when every word of its name is a word of the device
 * name, in any order (so "L4" does not match "NVIDIA L40S"); the row with the most words wins
 * ("A100-PCIe-40GB" over "A100-PCIe", "H100-PCIe" over "H100"), the first one on a tie. */
const rl_gpu *rl_gpu_match_device(const rl_gpu_table *t, const char *device_name)
{
    char dev[NAME_WORDS][WORD_CHARS], row[NAME_WORDS][WORD_CHARS];
    const int nd = name_words(device_name, dev, NAME_WORDS);
    const rl_gpu *best = NULL;
    int best_words = 0;
    for (int i = 0; i < t->n; i++) {
        const int nr = name_words(t->gpus[i].name, row, NAME_WORDS);
        int all = nr > 0;
        for (int r = 0; r < nr && all; r++) {
            int found = 0;
            for (int d = 0; d < nd && !found; d++) found = word_match(row[r], dev[d]);
            all = found;
        }
        if (all && nr > best_words) {
            best = &t->gpus[i];
            best_words = nr;
        }
    }
    return best;
}

double rl_roofs_ridge(const rl_roofs *r)
{
    if (!(r->peak_tflops > 0) || !(r->bandwidth_gbps > 0)) return 0;
    return r->peak_tflops * 1e12 / (r->bandwidth_gbps * 1e9);
}

double rl_gpu_ridge(const rl_gpu *g, rl_dtype dt)
{
    rl_roofs r = {.bandwidth_gbps = g->bandwidth_gbps, .peak_tflops = g->peak_tflops[dt]};
    return rl_roofs_ridge(&r);
}

int rl_roofs_from_gpu_prec(const rl_gpu *g, rl_dtype matmul, rl_dtype other, const char *flag, rl_roofs *out,
                           rl_err *err)
{
    memset(out, 0, sizeof *out);
    if (g->peak_tflops[matmul] <= 0)
        return rl_fail(err, "%s %s: GPU '%s' has no %s tensor peak in the table (field peak_tflops.%s)", flag,
                       rl_dtype_names[matmul], g->name, rl_dtype_names[matmul], rl_dtype_names[matmul]);
    if (g->peak_tflops[other] <= 0)
        return rl_fail(err, "GPU '%s' has no %s peak in the table (field peak_tflops.%s)", g->name,
                       rl_dtype_names[other], rl_dtype_names[other]);
    out->bandwidth_gbps = g->bandwidth_gbps;
    out->peak_tflops = g->peak_tflops[matmul];
    out->other_peak_tflops = g->peak_tflops[other];
    out->link_gbps = g->link_gbps;
    out->allreduce_us = g->allreduce_us;
    out->kernel_min_us = 0;
    snprintf(out->origin, sizeof out->origin, "datasheet %s", g->name);
    return 0;
}

int rl_roofs_from_gpu(const rl_gpu *g, rl_dtype dt, rl_roofs *out, rl_err *err)
{
    return rl_roofs_from_gpu_prec(g, dt, dt, "--dtype", out, err);
}

/* matmul < 0: gemm_tflops whatever dtype it was measured at (rl_roofs_load). */
static int load_roofs(const char *path, int matmul, rl_roofs *out, rl_err *err)
{
    memset(out, 0, sizeof *out);
    cJSON *root = rl_json_load(path, err);
    if (!root) return -1;
    const cJSON *r = cJSON_GetObjectItemCaseSensitive(root, "roofs");
    if (!cJSON_IsObject(r)) r = root;
    /* gemm_tflops is measured at roofs.dtype (bf16 when absent); bf16 and fp16 share a peak. */
    const cJSON *dt = cJSON_GetObjectItemCaseSensitive(r, "dtype");
    int measured = cJSON_IsString(dt) ? rl_dtype_from_name(dt->valuestring) : RL_DT_BF16;
    if (measured == RL_DT_FP16) measured = RL_DT_BF16;
    char field[32] = "gemm_tflops";
    if (matmul >= 0 && (matmul == RL_DT_FP16 ? RL_DT_BF16 : matmul) != measured)
        snprintf(field, sizeof field, "gemm_tflops_%s", rl_dtype_names[matmul]);
    int rc = rl_json_get_f64(r, path, "read_gbps", 1, 0, &out->bandwidth_gbps, err);
    if (!rc) rc = rl_json_get_f64(r, path, "gemm_tflops", 1, 0, &out->other_peak_tflops, err);
    if (!rc) rc = rl_json_get_f64(r, path, field, 1, 0, &out->peak_tflops, err);
    if (!rc) rc = rl_json_get_f64(r, path, "interconnect_gbps", 0, 0, &out->link_gbps, err);
    if (!rc) rc = rl_json_get_f64(r, path, "allreduce_latency_us", 0, 0, &out->allreduce_us, err);
    if (!rc && (out->bandwidth_gbps <= 0 || out->peak_tflops <= 0 || out->other_peak_tflops <= 0))
        rc = rl_fail(err, "%s: roofs read_gbps and %s must be > 0", path, field);
    if (!rc && (out->link_gbps < 0 || out->allreduce_us < 0))
        rc = rl_fail(err, "%s: roofs interconnect_gbps and allreduce_latency_us must be >= 0", path);
    if (!rc) rc = rl_json_get_f64(r, path, "kernel_min_us", 0, 0, &out->kernel_min_us, err);
    if (!rc && out->kernel_min_us < 0) out->kernel_min_us = 0;
    if (!rc) snprintf(out->origin, sizeof out->origin, "measured");
    cJSON_Delete(root);
    return rc;
}

int rl_roofs_load_prec(const char *path, rl_dtype matmul, rl_roofs *out, rl_err *err)
{
    return load_roofs(path, (int)matmul, out, err);
}

int rl_roofs_load(const char *path, rl_roofs *out, rl_err *err) { return load_roofs(path, -1, out, err); }
