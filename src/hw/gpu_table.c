/* gpu_table.c: the built-in GPU table. Dense (non-sparse) peaks from the vendors' datasheets;
 * where a datasheet quotes "with sparsity", the dense figure is half of it. */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/util.h"
#include "gpu.h"

const char *const rl_dtype_names[RL_DT_COUNT] = {"fp32", "tf32", "bf16", "fp16", "fp8"};

int rl_dtype_from_name(const char *name)
{
    for (int i = 0; i < RL_DT_COUNT; i++)
        if (rl_name_eq(name, rl_dtype_names[i])) return i;
    return -1;
}

/*                 fp32    tf32     bf16     fp16     fp8 */
static const rl_gpu builtin_gpus[] = {
    {"H200", "H200-SXM,H200 SXM 141GB,NVIDIA H200", 4800, {67, 494.5, 989, 989, 1979}, 141,
     "NVIDIA H200 Tensor Core GPU datasheet (SXM): 4.8 TB/s; sparsity peaks halved"},
    {"H100", "H100-SXM,H100-SXM5,H100 80GB HBM3,NVIDIA H100", 3350, {67, 494.5, 989, 989, 1979}, 80,
     "NVIDIA H100 Tensor Core GPU datasheet (SXM5): 3.35 TB/s; sparsity peaks halved"},
    {"H100-PCIe", "H100 PCIe,NVIDIA H100 PCIe", 2000, {51, 378, 756, 756, 1513}, 80,
     "NVIDIA H100 Tensor Core GPU datasheet (PCIe): 2.0 TB/s; sparsity peaks halved"},
    {"A100-PCIe", "A100 PCIe,A100-PCIE-80GB,NVIDIA A100 80GB PCIe", 1935, {19.5, 156, 312, 312, 0}, 80,
     "NVIDIA A100 Tensor Core GPU datasheet (80GB PCIe): 1,935 GB/s; no fp8"},
    {"A100-SXM", "A100 SXM,A100-SXM4-80GB,NVIDIA A100-SXM4-80GB", 2039, {19.5, 156, 312, 312, 0}, 80,
     "NVIDIA A100 Tensor Core GPU datasheet (80GB SXM): 2,039 GB/s; no fp8"},
    {"L40S", "NVIDIA L40S", 864, {91.6, 183, 362, 362, 733}, 48,
     "NVIDIA L40S datasheet: 864 GB/s GDDR6; sparsity peaks halved"},
    {"L4", "NVIDIA L4", 300, {30.3, 60, 121, 121, 242.5}, 24,
     "NVIDIA L4 datasheet: 300 GB/s GDDR6; sparsity peaks halved"},
    {"RTX-4090", "RTX 4090,GeForce RTX 4090,NVIDIA GeForce RTX 4090", 1008, {82.6, 82.6, 165.2, 165.2, 330.3}, 24,
     "NVIDIA Ada GPU architecture whitepaper (RTX 4090): 1,008 GB/s; tensor peaks with fp32 accumulate"},
    {"B200", "B200-SXM,NVIDIA B200", 8000, {75, 1100, 2250, 2250, 4500}, 180,
     "NVIDIA HGX B200 datasheet, per GPU: 8 TB/s; sparsity peaks halved"},
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
        if (dt < 0) return rl_fail(err, "%s: unknown dtype '%s' in peak_tflops (known: fp32, tf32, bf16, fp16, fp8)", where, it->string);
        if (!cJSON_IsNumber(it) || !(it->valuedouble >= 0 && it->valuedouble <= 1e6))
            return rl_fail(err, "%s: peak_tflops.%s must be a number in [0, 1e6]", where, it->string);
        g->peak_tflops[dt] = it->valuedouble;
    }
    if (g->peak_tflops[RL_DT_BF16] <= 0 && g->peak_tflops[RL_DT_FP16] <= 0 && g->peak_tflops[RL_DT_FP32] <= 0)
        return rl_fail(err, "%s: peak_tflops needs at least one of bf16, fp16, fp32", where);
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

/* Driver names look like "NVIDIA H100 80GB HBM3" or "NVIDIA H100 PCIe": pick the longest table
 * name that appears as a token run in the device name, preferring PCIe rows when "PCIe" is present. */
const rl_gpu *rl_gpu_match_device(const rl_gpu_table *t, const char *device_name)
{
    char dev[256];
    size_t j = 0;
    for (const char *p = device_name; *p && j + 1 < sizeof dev; p++)
        if (*p != '-' && *p != '_' && *p != ' ') dev[j++] = (char)(*p >= 'a' && *p <= 'z' ? *p - 32 : *p);
    dev[j] = 0;
    int pcie = strstr(dev, "PCIE") != NULL;
    const rl_gpu *best = NULL;
    size_t best_len = 0;
    for (int i = 0; i < t->n; i++) {
        char nm[64];
        size_t k = 0;
        for (const char *p = t->gpus[i].name; *p && k + 1 < sizeof nm; p++)
            if (*p != '-' && *p != '_' && *p != ' ') nm[k++] = (char)(*p >= 'a' && *p <= 'z' ? *p - 32 : *p);
        nm[k] = 0;
        int row_pcie = strstr(nm, "PCIE") != NULL;
        char base[64];
        snprintf(base, sizeof base, "%s", nm);
        char *cut = strstr(base, "PCIE");
        if (!cut) cut = strstr(base, "SXM");
        if (cut) *cut = 0;
        if (!strstr(dev, base)) continue;
        if (row_pcie != pcie && (strstr(base, "H100") || strstr(base, "A100"))) continue;
        size_t score = strlen(base) + (size_t)(row_pcie == pcie);
        if (score > best_len) {
            best = &t->gpus[i];
            best_len = score;
        }
    }
    return best;
}

double rl_gpu_ridge(const rl_gpu *g, rl_dtype dt)
{
    if (g->peak_tflops[dt] <= 0 || g->bandwidth_gbps <= 0) return 0;
    return g->peak_tflops[dt] * 1e12 / (g->bandwidth_gbps * 1e9);
}

int rl_roofs_from_gpu(const rl_gpu *g, rl_dtype dt, rl_roofs *out, rl_err *err)
{
    if (g->peak_tflops[dt] <= 0)
        return rl_fail(err, "GPU '%s' has no %s peak in the table", g->name, rl_dtype_names[dt]);
    out->bandwidth_gbps = g->bandwidth_gbps;
    out->peak_tflops = g->peak_tflops[dt];
    snprintf(out->origin, sizeof out->origin, "datasheet %s", g->name);
    return 0;
}

int rl_roofs_load(const char *path, rl_roofs *out, rl_err *err)
{
    cJSON *root = rl_json_load(path, err);
    if (!root) return -1;
    const cJSON *r = cJSON_GetObjectItemCaseSensitive(root, "roofs");
    if (!cJSON_IsObject(r)) r = root;
    int rc = rl_json_get_f64(r, path, "read_gbps", 1, 0, &out->bandwidth_gbps, err);
    if (!rc) rc = rl_json_get_f64(r, path, "gemm_tflops", 1, 0, &out->peak_tflops, err);
    if (!rc && (out->bandwidth_gbps <= 0 || out->peak_tflops <= 0))
        rc = rl_fail(err, "%s: roofs read_gbps and gemm_tflops must be > 0", path);
    if (!rc) snprintf(out->origin, sizeof out->origin, "measured");
    cJSON_Delete(root);
    return rc;
}
