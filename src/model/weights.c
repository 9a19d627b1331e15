/* weights.c: safetensors checkpoints, memory-mapped and validated before any tensor is used.
 *
 * File layout (https://github.com/huggingface/safetensors): an 8-byte little-endian header length N,
 * N bytes of JSON {"name": {"dtype": "BF16", "shape": [..], "data_offsets": [begin, end]}, ...,
 * "__metadata__": {...}}, then the data area; offsets are relative to the data area.
 * A checkpoint is read from a file we did not write, so every field is checked before it is
 * trusted: the header length against a bound and the file size, dtypes, ranks, shape x dtype size
 * against the byte span, spans inside the data area and disjoint, and finally every tensor the
 * model config needs, by name and shape. Errors name the file and the tensor or field. */
#include "weights.h"

#include "../common/util.h"
#include "spec.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

/* Real headers are a few hundred KB even for 405B models; anything near this is corrupt. */
#define ST_MAX_HEADER_BYTES (100ull * 1000 * 1000)
/* 2^53: the largest integer a JSON number (double) holds exactly. */
#define ST_MAX_JSON_INT 9007199254740992.0

typedef struct {
    char *name;
    rl_st_dtype dtype;
    int ndim;
    int64_t shape[4];
    uint64_t begin, end; /* byte span inside the file's data area */
    int file;            /* index into rl_weights.files */
} st_entry;

typedef struct {
    char *path;
    uint8_t *map; /* whole-file mapping (NULL for in-memory validation) */
    size_t map_len;
    const uint8_t *data; /* data area = map + 8 + header length */
    size_t data_len;
} st_file;

typedef struct {
    st_entry *v;
    int n, cap;
} st_list;

struct rl_weights {
    char *source; /* the file or index we opened, for messages */
    st_file *files;
    int n_files;
    st_list t; /* sorted by name after loading */
};

size_t rl_st_dtype_size(rl_st_dtype d) { return d == RL_ST_F32 ? 4 : 2; }

const char *rl_st_dtype_name(rl_st_dtype d)
{
    return d == RL_ST_F32 ? "F32" : d == RL_ST_F16 ? "F16" : "BF16";
}

static void list_free(st_list *l)
{
    for (int i = 0; i < l->n; i++) free(l->v[i].name);
    free(l->v);
    l->v = NULL;
    l->n = l->cap = 0;
}

static st_entry *list_push(st_list *l, rl_err *err)
{
    if (l->n == l->cap) {
        int cap = l->cap ? l->cap * 2 : 64;
        st_entry *v = realloc(l->v, sizeof *v * (size_t)cap);
        if (!v) {
            rl_fail(err, "safetensors: out of host memory for the tensor table");
            return NULL;
        }
        l->v = v;
        l->cap = cap;
    }
    st_entry *e = &l->v[l->n++];
    memset(e, 0, sizeof *e);
    return e;
}

static void format_shape(const int64_t *shape, int ndim, char *buf, size_t n)
{
    size_t off = (size_t)snprintf(buf, n, "[");
    for (int i = 0; i < ndim && off < n; i++)
        off += (size_t)snprintf(buf + off, n - off, "%s%lld", i ? ", " : "", (long long)shape[i]);
    if (off < n) snprintf(buf + off, n - off, "]");
}

/* A JSON number that is an exact non-negative integer below 2^53. */
static int json_uint(const cJSON *it, uint64_t *out)
{
    if (!cJSON_IsNumber(it)) return 0;
    double v = it->valuedouble;
    if (!isfinite(v) || v < 0 || v != floor(v) || v >= ST_MAX_JSON_INT) return 0;
    *out = (uint64_t)v;
    return 1;
}

static int parse_dtype(const cJSON *dt, rl_st_dtype *out)
{
    if (!cJSON_IsString(dt)) return 0;
    if (!strcmp(dt->valuestring, "F32")) *out = RL_ST_F32;
    else if (!strcmp(dt->valuestring, "F16")) *out = RL_ST_F16;
    else if (!strcmp(dt->valuestring, "BF16")) *out = RL_ST_BF16;
    else return 0;
    return 1;
}

/* One header entry: dtype, shape, offsets, and shape x dtype size == span inside the data area. */
static int parse_entry(const cJSON *it, const char *what, size_t data_len, st_entry *e, rl_err *err)
{
    const char *name = it->string;
    if (!cJSON_IsObject(it))
        return rl_fail(err, "%s: tensor '%s': header entry must be an object with dtype, shape, data_offsets", what,
                       name);
    const cJSON *dt = cJSON_GetObjectItemCaseSensitive(it, "dtype");
    if (!cJSON_IsString(dt))
        return rl_fail(err, "%s: tensor '%s': field 'dtype' is missing or not a string", what, name);
    if (!parse_dtype(dt, &e->dtype))
        return rl_fail(err, "%s: tensor '%s': dtype '%s' is not supported (F32, F16, BF16 are)", what, name,
                       dt->valuestring);
    const cJSON *shape = cJSON_GetObjectItemCaseSensitive(it, "shape");
    if (!cJSON_IsArray(shape))
        return rl_fail(err, "%s: tensor '%s': field 'shape' is missing or not an array", what, name);
    int ndim = cJSON_GetArraySize(shape);
    if (ndim > 4) return rl_fail(err, "%s: tensor '%s': shape has %d dimensions (at most 4 supported)", what, name, ndim);
    uint64_t elems = 1;
    int i = 0;
    for (const cJSON *d = shape->child; d; d = d->next, i++) {
        uint64_t v;
        if (!json_uint(d, &v) || v > (1ull << 40))
            return rl_fail(err, "%s: tensor '%s': shape[%d] must be a non-negative integer below 2^40", what, name, i);
        e->shape[i] = (int64_t)v;
        if (__builtin_mul_overflow(elems, v, &elems) || elems > (1ull << 50))
            return rl_fail(err, "%s: tensor '%s': shape has too many elements", what, name);
    }
    e->ndim = ndim;
    const cJSON *off = cJSON_GetObjectItemCaseSensitive(it, "data_offsets");
    if (!cJSON_IsArray(off) || cJSON_GetArraySize(off) != 2 || !json_uint(off->child, &e->begin) ||
        !json_uint(off->child->next, &e->end) || e->begin > e->end)
        return rl_fail(err, "%s: tensor '%s': data_offsets must be [begin, end] integers with begin <= end", what,
                       name);
    if (e->end > data_len)
        return rl_fail(err,
                       "%s: tensor '%s': data_offsets [%llu, %llu] run past the end of the data area (%zu bytes): "
                       "truncated or corrupt file",
                       what, name, (unsigned long long)e->begin, (unsigned long long)e->end, data_len);
    uint64_t want = elems * rl_st_dtype_size(e->dtype);
    if (want != e->end - e->begin) {
        char s[96];
        format_shape(e->shape, e->ndim, s, sizeof s);
        return rl_fail(err, "%s: tensor '%s': shape %s of %s needs %llu bytes but data_offsets span %llu", what, name, s,
                       rl_st_dtype_name(e->dtype), (unsigned long long)want, (unsigned long long)(e->end - e->begin));
    }
    return 0;
}

static int cmp_begin(const void *a, const void *b)
{
    const st_entry *x = *(st_entry *const *)a, *y = *(st_entry *const *)b;
    if (x->begin != y->begin) return x->begin < y->begin ? -1 : 1;
    return x->end < y->end ? -1 : x->end > y->end;
}

/* Spans of one file must be disjoint (empty tensors take no bytes and overlap nothing). */
static int check_overlap(st_entry *v, int n, const char *what, rl_err *err)
{
    if (n < 2) return 0;
    st_entry **p = malloc(sizeof *p * (size_t)n);
    if (!p) return rl_fail(err, "%s: out of host memory", what);
    int m = 0;
    for (int i = 0; i < n; i++)
        if (v[i].end > v[i].begin) p[m++] = &v[i];
    qsort(p, (size_t)m, sizeof *p, cmp_begin);
    int rc = 0;
    for (int i = 1; i < m; i++)
        if (p[i]->begin < p[i - 1]->end) {
            rc = rl_fail(err, "%s: tensors '%s' [%llu, %llu] and '%s' [%llu, %llu] have overlapping data_offsets", what,
                         p[i - 1]->name, (unsigned long long)p[i - 1]->begin, (unsigned long long)p[i - 1]->end,
                         p[i]->name, (unsigned long long)p[i]->begin, (unsigned long long)p[i]->end);
            break;
        }
    free(p);
    return rc;
}

/* Parses and validates one file's header, appending its tensors to l (tagged with file index fi). */
static int parse_file(const uint8_t *buf, size_t len, const char *what, int fi, st_list *l, const uint8_t **data,
                      size_t *data_len, rl_err *err)
{
    if (len < 8)
        return rl_fail(err, "%s: truncated file: %zu bytes, but a safetensors file starts with an 8-byte header length",
                       what, len);
    uint64_t hlen = 0;
    for (int i = 7; i >= 0; i--) hlen = hlen << 8 | buf[i];
    if (hlen > ST_MAX_HEADER_BYTES)
        return rl_fail(err, "%s: header length %llu bytes exceeds the 100 MB limit (corrupt or not a safetensors file)",
                       what, (unsigned long long)hlen);
    if (hlen > len - 8)
        return rl_fail(err, "%s: truncated file: header length %llu bytes but only %zu bytes follow it", what,
                       (unsigned long long)hlen, len - 8);
    if (hlen < 2) return rl_fail(err, "%s: header length %llu is too small for a JSON object", what, (unsigned long long)hlen);
    *data = buf + 8 + hlen;
    *data_len = len - 8 - (size_t)hlen;
    cJSON *root = cJSON_ParseWithLength((const char *)buf + 8, (size_t)hlen);
    if (!root) return rl_fail(err, "%s: header is not valid JSON", what);
    int rc = 0, first = l->n;
    if (!cJSON_IsObject(root)) {
        rc = rl_fail(err, "%s: header must be a JSON object of tensors", what);
        goto done;
    }
    for (const cJSON *it = root->child; it; it = it->next) {
        if (!it->string) continue;
        if (!strcmp(it->string, "__metadata__")) {
            if (!cJSON_IsObject(it) && !cJSON_IsNull(it)) {
                rc = rl_fail(err, "%s: '__metadata__' must be an object", what);
                goto done;
            }
            continue;
        }
        st_entry *e = list_push(l, err);
        if (!e) {
            rc = -1;
            goto done;
        }
        e->file = fi;
        e->name = strdup(it->string);
        if (!e->name) {
            rc = rl_fail(err, "%s: out of host memory", what);
            goto done;
        }
        if (parse_entry(it, what, *data_len, e, err)) {
            rc = -1;
            goto done;
        }
    }
    if (l->n > first) rc = check_overlap(l->v + first, l->n - first, what, err);
done:
    cJSON_Delete(root);
    return rc;
}

static int cmp_name(const void *a, const void *b)
{
    return strcmp(((const st_entry *)a)->name, ((const st_entry *)b)->name);
}

/* Sorts by name and rejects a name given twice (cJSON keeps duplicate keys; the spec forbids them). */
static int sort_and_check_dupes(st_list *l, rl_weights *w, const char *what, rl_err *err)
{
    if (l->n < 2) return 0; /* (qsort of NULL, 0 is undefined) */
    qsort(l->v, (size_t)l->n, sizeof *l->v, cmp_name);
    for (int i = 1; i < l->n; i++)
        if (!strcmp(l->v[i].name, l->v[i - 1].name)) {
            const char *a = w ? w->files[l->v[i - 1].file].path : what;
            const char *b = w ? w->files[l->v[i].file].path : what;
            if (a == b || !strcmp(a, b)) return rl_fail(err, "%s: tensor '%s' appears twice in the header", a, l->v[i].name);
            return rl_fail(err, "%s: tensor '%s' appears in two shards (%s and %s)", what, l->v[i].name, a, b);
        }
    return 0;
}

int rl_safetensors_validate(const uint8_t *buf, size_t len, const char *what, int *n_tensors, rl_err *err)
{
    st_list l = {0};
    const uint8_t *data;
    size_t data_len;
    int rc = parse_file(buf, len, what, 0, &l, &data, &data_len, err);
    if (!rc) rc = sort_and_check_dupes(&l, NULL, what, err);
    if (!rc && n_tensors) *n_tensors = l.n;
    list_free(&l);
    return rc;
}

/* ---- files ------------------------------------------------------------------------------ */

static int map_file(rl_weights *w, const char *path, rl_err *err)
{
    st_file *f = realloc(w->files, sizeof *f * (size_t)(w->n_files + 1));
    if (!f) return rl_fail(err, "%s: out of host memory", path);
    w->files = f;
    f = &w->files[w->n_files];
    memset(f, 0, sizeof *f);
    f->path = strdup(path);
    if (!f->path) return rl_fail(err, "%s: out of host memory", path);
    w->n_files++;
    int64_t size_bytes;
    int fd = rl_open_regular(path, &size_bytes, err); /* a FIFO shard is refused, not waited on */
    if (fd < 0) return -1;
    f->map_len = (size_t)size_bytes;
    if (f->map_len < 8) {
        close(fd);
        return rl_fail(err, "%s: truncated file: %zu bytes, but a safetensors file starts with an 8-byte header length",
                       path, f->map_len);
    }
    void *p = mmap(NULL, f->map_len, PROT_READ, MAP_PRIVATE, fd, 0);
    close(fd);
    if (p == MAP_FAILED) {
        f->map_len = 0;
        return rl_fail(err, "%s: mmap failed: %s", path, strerror(errno));
    }
    f->map = p;
    return parse_file(f->map, f->map_len, path, w->n_files - 1, &w->t, &f->data, &f->data_len, err);
}

/* Present at all: a FIFO or directory of that name is then refused by the open, by name. */
static int exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

/* A shard name from the index must stay inside the checkpoint directory. */
static int safe_shard_name(const char *s)
{
    return s[0] && s[0] != '/' && !strstr(s, "..") && strlen(s) < 1024;
}

static int open_sharded(rl_weights *w, const char *dir, const char *index, rl_err *err)
{
    cJSON *root = rl_json_load_max(index, RL_CONFIG_MAX_BYTES, err);
    if (!root) return -1;
    int rc = 0;
    const cJSON *map = cJSON_GetObjectItemCaseSensitive(root, "weight_map");
    if (!cJSON_IsObject(map)) {
        rc = rl_fail(err, "%s: field 'weight_map' is missing or not an object", index);
        goto done;
    }
    char path[4096];
    /* Map every distinct shard once, in order of first mention. */
    for (const cJSON *it = map->child; it; it = it->next) {
        if (!cJSON_IsString(it) || !safe_shard_name(it->valuestring)) {
            rc = rl_fail(err, "%s: weight_map['%s'] must be a shard file name inside %s", index, it->string, dir);
            goto done;
        }
        snprintf(path, sizeof path, "%s/%s", dir, it->valuestring);
        int seen = 0;
        for (int i = 0; i < w->n_files && !seen; i++) seen = !strcmp(w->files[i].path, path);
        if (!seen && map_file(w, path, err)) {
            rc = -1;
            goto done;
        }
    }
    if (w->n_files == 0) {
        rc = rl_fail(err, "%s: weight_map is empty", index);
        goto done;
    }
    if ((rc = sort_and_check_dupes(&w->t, w, index, err))) goto done;
    /* Every tensor the index names must be in the shard it names. */
    for (const cJSON *it = map->child; it; it = it->next) {
        rl_tensor_view v;
        snprintf(path, sizeof path, "%s/%s", dir, it->valuestring);
        if (rl_weights_get(w, it->string, &v, NULL) != 0) {
            rc = rl_fail(err, "%s: tensor '%s' is listed in weight_map but missing from %s", index, it->string, path);
            goto done;
        }
        const st_entry key = {.name = it->string};
        const st_entry *e = bsearch(&key, w->t.v, (size_t)w->t.n, sizeof key, cmp_name);
        if (strcmp(w->files[e->file].path, path) != 0) {
            rc = rl_fail(err, "%s: tensor '%s' is listed in %s but found in %s", index, it->string, path,
                         w->files[e->file].path);
            goto done;
        }
    }
done:
    cJSON_Delete(root);
    return rc;
}

/* ---- the config's tensors ---------------------------------------------------------------- */

static const st_entry *find_entry(const rl_weights *w, const char *name)
{
    const st_entry key = {.name = (char *)name};
    return w->t.n ? bsearch(&key, w->t.v, (size_t)w->t.n, sizeof key, cmp_name) : NULL;
}

/* Tensor `name` of spec entry t: present (unless optional) with t's shape. Marks it seen. */
static int need(const rl_weights *w, const rl_tensor_spec *t, const char *name, uint8_t *seen, rl_err *err)
{
    const st_entry *e = find_entry(w, name);
    if (!e) {
        if (t->optional) return 0;
        return rl_fail(err, "%s: missing tensor '%s' (the config needs it)", w->source, name);
    }
    seen[e - w->t.v] = 1;
    if (t->tied) return 0; /* a tied model's lm_head.weight is ignored: the embedding serves */
    const int ndim = t->cols > 0 ? 2 : 1;
    const int64_t want[2] = {t->rows, t->cols};
    int ok = e->ndim == ndim;
    for (int i = 0; ok && i < ndim; i++) ok = e->shape[i] == want[i];
    if (!ok) {
        char got[96], exp[96];
        format_shape(e->shape, e->ndim, got, sizeof got);
        format_shape(want, ndim, exp, sizeof exp);
        return rl_fail(err, "%s: tensor '%s' has shape %s but the config (hidden, heads, head_dim, ...) needs %s: "
                            "shape mismatch between config.json and the checkpoint",
                       w->files[e->file].path, name, got, exp);
    }
    return 0;
}

/* Every tensor of the model-spec table is there with its shape, and nothing else is: a checkpoint
 * with more layers (or biases, experts, ...) than its config declares would otherwise lose them
 * silently. */
static int check_config(const rl_weights *w, const rl_model_config *m, rl_err *err)
{
    uint8_t *seen = calloc((size_t)(w->t.n > 0 ? w->t.n : 1), 1);
    if (!seen) return rl_fail(err, "%s: out of host memory", w->source);
    rl_tensor_spec t[RL_SPEC_MAX_TENSORS];
    char name[192];
    int rc = 0;
    for (int64_t l = RL_SPEC_GLOBAL; l < m->layers && !rc; l++) {
        const int n = rl_spec_tensors(m, l, t);
        for (int i = 0; i < n && !rc; i++)
            for (int64_t x = 0; x < t[i].experts && !rc; x++) {
                rl_spec_name(&t[i], l, x, name, sizeof name);
                rc = need(w, &t[i], name, seen, err);
            }
    }
    for (int i = 0; i < w->t.n && !rc; i++) {
        const char *nm = w->t.v[i].name;
        const size_t len = strlen(nm);
        if (seen[i] || rl_spec_ignorable(nm)) continue;
        if (len > 5 && !strcmp(nm + len - 5, ".bias"))
            rc = rl_fail(err, "%s: tensor '%s': projection biases the config does not declare are not supported "
                              "(model_type '%s')",
                         w->files[w->t.v[i].file].path, nm, m->model_type);
        else
            rc = rl_fail(err, "%s: tensor '%s' is not in the model spec of the config (model_type '%s', "
                              "num_hidden_layers %lld): config.json and the checkpoint disagree",
                         w->files[w->t.v[i].file].path, nm, m->model_type, (long long)m->layers);
    }
    free(seen);
    return rc;
}

int rl_weights_open(const char *dir, const rl_model_config *m, rl_weights **out, rl_err *err)
{
    *out = NULL;
    rl_weights *w = calloc(1, sizeof *w);
    if (!w) return rl_fail(err, "%s: out of host memory", dir);
    char single[4096], index[4096];
    snprintf(single, sizeof single, "%s/model.safetensors", dir);
    snprintf(index, sizeof index, "%s/model.safetensors.index.json", dir);
    int rc;
    if (exists(single)) {
        w->source = strdup(single);
        rc = map_file(w, single, err);
        if (!rc) rc = sort_and_check_dupes(&w->t, w, single, err);
    } else if (exists(index)) {
        w->source = strdup(index);
        rc = open_sharded(w, dir, index, err);
    } else {
        rc = rl_fail(err, "%s: neither model.safetensors nor model.safetensors.index.json found (expected a Hugging Face "
                          "checkpoint directory)",
                     dir);
    }
    if (!rc && !w->source) rc = rl_fail(err, "%s: out of host memory", dir);
    if (!rc && m) rc = check_config(w, m, err);
    if (rc) {
        rl_weights_close(w);
        return -1;
    }
    *out = w;
    return 0;
}

void rl_weights_close(rl_weights *w)
{
    if (!w) return;
    for (int i = 0; i < w->n_files; i++) {
        if (w->files[i].map) munmap(w->files[i].map, w->files[i].map_len);
        free(w->files[i].path);
    }
    free(w->files);
    list_free(&w->t);
    free(w->source);
    free(w);
}

const char *rl_weights_source(const rl_weights *w) { return w->source; }

int rl_weights_count(const rl_weights *w) { return w->t.n; }

int rl_weights_get(const rl_weights *w, const char *name, rl_tensor_view *out, rl_err *err)
{
    const st_entry *e = find_entry(w, name);
    if (!e) return rl_fail(err, "%s: missing tensor '%s'", w->source, name);
    const st_file *f = &w->files[e->file];
    out->name = e->name;
    out->dtype = e->dtype;
    out->ndim = e->ndim;
    memset(out->shape, 0, sizeof out->shape);
    memcpy(out->shape, e->shape, sizeof e->shape[0] * (size_t)e->ndim);
    out->data = f->data + e->begin;
    out->nbytes = (size_t)(e->end - e->begin);
    return 0;
}

/* ---- element conversion ------------------------------------------------------------------- */

static float bits_f32(uint32_t u)
{
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

float rl_f16_to_f32(uint16_t h)
{
    uint32_t sign = (uint32_t)(h & 0x8000) << 16, exp = (h >> 10) & 0x1f, mant = h & 0x3ff;
    if (exp == 0) { /* zero or subnormal: mant x 2^-24, exact in fp32 */
        float v = (float)mant * 5.9604644775390625e-8f;
        return sign ? -v : v;
    }
    if (exp == 31) return bits_f32(sign | 0x7f800000u | mant << 13); /* inf, nan */
    return bits_f32(sign | (exp + 112) << 23 | mant << 13);
}

float rl_bf16_to_f32(uint16_t b) { return bits_f32((uint32_t)b << 16); }

uint16_t rl_f32_to_bf16(float f)
{
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    if ((u & 0x7fffffffu) > 0x7f800000u) return (uint16_t)(u >> 16 | 0x40); /* nan stays a quiet nan */
    u += 0x7fffu + ((u >> 16) & 1);                                          /* round to nearest even */
    return (uint16_t)(u >> 16);
}

/* Loads go through memcpy: the data area starts at 8 + header length, so nothing is aligned. */
void rl_tensor_to_f32(const rl_tensor_view *t, float *dst)
{
    const uint8_t *p = t->data;
    size_t n = t->nbytes / rl_st_dtype_size(t->dtype);
    if (t->dtype == RL_ST_F32) {
        memcpy(dst, p, n * sizeof *dst);
        return;
    }
    for (size_t i = 0; i < n; i++) {
        uint16_t h;
        memcpy(&h, p + 2 * i, 2);
        dst[i] = t->dtype == RL_ST_BF16 ? rl_bf16_to_f32(h) : rl_f16_to_f32(h);
    }
}

void rl_tensor_to_bf16(const rl_tensor_view *t, uint16_t *dst)
{
    const uint8_t *p = t->data;
    size_t n = t->nbytes / rl_st_dtype_size(t->dtype);
    if (t->dtype == RL_ST_BF16) {
        memcpy(dst, p, n * sizeof *dst);
        return;
    }
    for (size_t i = 0; i < n; i++) {
        float f;
        if (t->dtype == RL_ST_F32) {
            memcpy(&f, p + 4 * i, 4);
        } else {
            uint16_t h;
            memcpy(&h, p + 2 * i, 2);
            f = rl_f16_to_f32(h);
        }
        dst[i] = rl_f32_to_bf16(f);
    }
}
