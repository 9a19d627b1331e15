/* golden.h: loads the golden data scripts/make_golden.py writes (tests/data/golden/<model>/:
 * config.json, safetensors, meta.json with tokens/shape/greedy, logits as raw little-endian fp32
 * [tokens, vocab]) and compares logits the way every engine test does. Header-only, for tests. */
#ifndef RL_TESTS_GOLDEN_H
#define RL_TESTS_GOLDEN_H
#include <cjson/cJSON.h>
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common/util.h"
#include "model/config.h"

typedef struct {
    char dir[1024];
    int32_t tokens[256];
    int n_tokens;
    int32_t greedy[64];
    int n_greedy;
    int64_t vocab;
    float *logits; /* [n_tokens, vocab] */
} golden;

#define GOLDEN_MAX_MODELS 64

/* Every directory under data_dir/golden that holds a meta.json (each has golden logits; the copies
 * share their source's), sorted by name into names[GOLDEN_MAX_MODELS][64]. Returns how many, or -1
 * with a message when the directory cannot be read. A new golden directory is tested by every
 * engine test without touching them. */
static inline int golden_cmp_names(const void *a, const void *b) { return strcmp((const char *)a, (const char *)b); }

static inline int golden_list(const char *data_dir, char names[][64], rl_err *err)
{
    char dir[1024], meta[1200];
    snprintf(dir, sizeof dir, "%s/golden", data_dir);
    DIR *d = opendir(dir);
    if (!d) return rl_fail(err, "%s: cannot open the golden data directory", dir);
    int n = 0;
    for (struct dirent *e; (e = readdir(d)) && n < GOLDEN_MAX_MODELS;) {
        struct stat st;
        snprintf(meta, sizeof meta, "%s/%s/meta.json", dir, e->d_name);
        if (e->d_name[0] == '.' || strlen(e->d_name) >= 64 || stat(meta, &st) || !S_ISREG(st.st_mode)) continue;
        snprintf(names[n++], 64, "%s", e->d_name);
    }
    closedir(d);
    qsort(names, (size_t)n, 64, golden_cmp_names);
    if (n == 0) return rl_fail(err, "%s: no golden checkpoints (directories with meta.json)", dir);
    return n;
}

static inline int golden_int_array(const cJSON *arr, int32_t *out, int max)
{
    int n = 0;
    for (const cJSON *it = arr ? arr->child : NULL; it && n < max; it = it->next) out[n++] = (int32_t)it->valuedouble;
    return n;
}

/* Loads data_dir/golden/<name>. Returns 0, or -1 with a message in err. */
static inline int golden_load(const char *data_dir, const char *name, golden *g, rl_err *err)
{
    memset(g, 0, sizeof *g);
    snprintf(g->dir, sizeof g->dir, "%s/golden/%s", data_dir, name);
    char path[1200];
    snprintf(path, sizeof path, "%s/meta.json", g->dir);
    cJSON *meta = rl_json_load(path, err);
    if (!meta) return -1;
    const cJSON *shape = cJSON_GetObjectItemCaseSensitive(meta, "shape");
    const cJSON *file = cJSON_GetObjectItemCaseSensitive(meta, "logits");
    g->n_tokens = golden_int_array(cJSON_GetObjectItemCaseSensitive(meta, "tokens"), g->tokens, 256);
    g->n_greedy = golden_int_array(cJSON_GetObjectItemCaseSensitive(meta, "greedy"), g->greedy, 64);
    if (cJSON_GetArraySize(shape) != 2 || !cJSON_IsString(file) || g->n_tokens <= 0 ||
        cJSON_GetArrayItem(shape, 0)->valuedouble != g->n_tokens) {
        cJSON_Delete(meta);
        return rl_fail(err, "%s: malformed golden meta (shape, tokens, logits)", path);
    }
    g->vocab = (int64_t)cJSON_GetArrayItem(shape, 1)->valuedouble;
    snprintf(path, sizeof path, "%s/%s", g->dir, file->valuestring);
    cJSON_Delete(meta);
    size_t len = 0;
    char *raw = rl_read_file(path, &len, err);
    if (!raw) return -1;
    if (len != (size_t)g->n_tokens * (size_t)g->vocab * 4) {
        free(raw);
        return rl_fail(err, "%s: %zu bytes, meta says %d x %lld fp32", path, len, g->n_tokens, (long long)g->vocab);
    }
    g->logits = malloc(len);
    memcpy(g->logits, raw, len); /* little-endian hosts only, like every machine we build on */
    free(raw);
    return 0;
}

static inline void golden_free(golden *g)
{
    free(g->logits);
    g->logits = NULL;
}

/* golden_load, then the checkpoint's config.json into m (g freed again when that fails). */
static inline int golden_load_model(const char *data_dir, const char *name, golden *g, rl_model_config *m, rl_err *err)
{
    if (golden_load(data_dir, name, g, err)) return -1;
    if (rl_model_from_config_json(g->dir, m, err) == 0) return 0;
    golden_free(g);
    return -1;
}

static inline int64_t golden_argmax(const float *v, int64_t n)
{
    int64_t best = 0;
    for (int64_t i = 1; i < n; i++)
        if (v[i] > v[best]) best = i;
    return best;
}

/* Largest |got - want| over rows x vocab, relative to the largest |want|; *argmax_mismatch gets
 * the first row whose argmax differs (-1 if none). */
static inline double golden_rel_err(const float *got, const float *want, int64_t rows, int64_t vocab, int64_t *argmax_mismatch)
{
    double max_abs = 0, max_diff = 0;
    int nan = 0;
    *argmax_mismatch = -1;
    for (int64_t i = 0; i < rows * vocab; i++) {
        if (fabs(want[i]) > max_abs) max_abs = fabs(want[i]);
        double d = fabs((double)got[i] - want[i]);
        if (isnan(d)) nan = 1;
        else if (d > max_diff) max_diff = d;
    }
    if (nan) return INFINITY;
    for (int64_t r = 0; r < rows && *argmax_mismatch < 0; r++)
        if (golden_argmax(got + r * vocab, vocab) != golden_argmax(want + r * vocab, vocab)) *argmax_mismatch = r;
    return max_abs > 0 ? max_diff / max_abs : max_diff;
}


/* Max |got - want| / max |want| over rows x vocab (NaN counts as infinite); *bad_row: the first row
 * whose argmax differs where the reference's top-2 margin is clear (> 2 * tol * max|want|), -1 if
 * none. The bf16 engines' comparison, where an argmax flip inside the rounding noise is allowed. */
static inline double golden_compare_tol(const float *got, const float *want, int64_t rows, int64_t vocab, double tol,
                                        int64_t *bad_row)
{
    double max_abs = 0, max_diff = 0;
    *bad_row = -1;
    for (int64_t i = 0; i < rows * vocab; i++) {
        if (fabs(want[i]) > max_abs) max_abs = fabs(want[i]);
        const double d = fabs((double)got[i] - want[i]);
        if (!(d <= max_diff)) max_diff = isnan(d) ? INFINITY : d;
    }
    for (int64_t r = 0; r < rows && *bad_row < 0; r++) {
        const float *w = want + r * vocab;
        const int64_t a = golden_argmax(w, vocab);
        double second = -INFINITY;
        for (int64_t v = 0; v < vocab; v++)
            if (v != a && w[v] > second) second = w[v];
        if (w[a] - second > 2 * tol * max_abs && golden_argmax(got + r * vocab, vocab) != a) *bad_row = r;
    }
    return max_abs > 0 ? max_diff / max_abs : max_diff;
}

#endif
