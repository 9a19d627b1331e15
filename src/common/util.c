#define _POSIX_C_SOURCE 200809L
#include "util.h"

#include <cjson/cJSON.h>
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#ifdef RL_HAVE_COMMIT_H
#include "rl_commit.h"
#endif
#ifndef RL_GIT_COMMIT
#define RL_GIT_COMMIT "unknown"
#endif
#ifndef RL_VERSION
#define RL_VERSION "0.1.0"
#endif

const char *rl_build_commit(void) { return RL_GIT_COMMIT; }
const char *rl_version(void) { return RL_VERSION; }

int rl_parse_i64(const char *s, int64_t lo, int64_t hi, const char *what, int64_t *out, rl_err *err)
{
    if (!s || !*s) return rl_fail(err, "%s: empty value, expected an integer in [%lld, %lld]", what,
                                  (long long)lo, (long long)hi);
    char *end = NULL;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno || !end || *end || isspace((unsigned char)*s))
        return rl_fail(err, "%s: '%s' is not an integer", what, s);
    if (v < lo || v > hi)
        return rl_fail(err, "%s: %lld is out of range [%lld, %lld]", what, v, (long long)lo, (long long)hi);
    *out = v;
    return 0;
}

int rl_parse_f64(const char *s, double lo, double hi, const char *what, double *out, rl_err *err)
{
    if (!s || !*s) return rl_fail(err, "%s: empty value, expected a number", what);
    char *end = NULL;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || !end || *end || isspace((unsigned char)*s) || !isfinite(v))
        return rl_fail(err, "%s: '%s' is not a number", what, s);
    if (v < lo || v > hi) return rl_fail(err, "%s: %g is out of range [%g, %g]", what, v, lo, hi);
    *out = v;
    return 0;
}

int rl_parse_i64_list(const char *s, int64_t lo, int64_t hi, const char *what, int64_t *out, int n_max,
                      rl_err *err)
{
    if (!s || !*s) return rl_fail(err, "%s: empty list", what);
    int n = 0;
    const char *p = s;
    while (*p) {
        const char *comma = strchr(p, ',');
        size_t len = comma ? (size_t)(comma - p) : strlen(p);
        char item[64];
        if (len == 0 || len >= sizeof item) return rl_fail(err, "%s: malformed list '%s'", what, s);
        memcpy(item, p, len);
        item[len] = 0;
        if (n >= n_max) return rl_fail(err, "%s: more than %d values", what, n_max);
        if (rl_parse_i64(item, lo, hi, what, &out[n], err)) return -1;
        n++;
        if (!comma) break;
        p = comma + 1;
        if (!*p) return rl_fail(err, "%s: trailing comma in '%s'", what, s);
    }
    return n;
}

int rl_csv_split(char *line, char **fields, int max)
{
    int n = 0;
    char *p = line;
    for (;;) {
        char *q = p;
        while (*q == ' ' || *q == '\t') q++;
        if (*q == '"') p = q; /* blanks before an opening quote are not part of the field */
        char *out = p, *start = p;
        if (*p == '"') {
            start = out = ++p;
            while (*p && !(*p == '"' && p[1] != '"')) {
                if (*p == '"') p++; /* "" is one quote */
                *out++ = *p++;
            }
            if (*p == '"') p++;
            while (*p && *p != ',') p++; /* anything between the closing quote and the comma */
        } else {
            while (*p && *p != ',' && *p != '\r' && *p != '\n') *out++ = *p++;
        }
        char sep = *p;
        *out = 0;
        if (n == max) return max + 1;
        fields[n++] = start;
        if (sep != ',') return n;
        p++;
    }
}

cJSON *rl_json_load(const char *path, rl_err *err) { return rl_json_load_max(path, RL_READ_MAX_BYTES, err); }

cJSON *rl_json_load_max(const char *path, size_t max_bytes, rl_err *err)
{
    size_t len = 0;
    char *text = rl_read_file_max(path, max_bytes, &len, err);
    if (!text) return NULL;
    cJSON *root = cJSON_ParseWithLength(text, len);
    if (!root) {
        const char *at = cJSON_GetErrorPtr();
        long off = at ? (long)(at - text) : -1;
        rl_fail(err, "%s: malformed JSON near byte %ld", path, off);
        free(text);
        return NULL;
    }
    free(text);
    return root;
}

int rl_json_get_i64(const cJSON *obj, const char *file, const char *field, int required, int64_t dflt,
                    int64_t *out, rl_err *err)
{
    const cJSON *it = cJSON_GetObjectItemCaseSensitive(obj, field);
    if (!it || cJSON_IsNull(it)) {
        if (required) return rl_fail(err, "%s: required field '%s' is missing", file, field);
        *out = dflt;
        return 0;
    }
    if (!cJSON_IsNumber(it)) return rl_fail(err, "%s: field '%s' must be a number", file, field);
    double v = it->valuedouble;
    if (!isfinite(v) || v != floor(v) || fabs(v) > 9.0e15)
        return rl_fail(err, "%s: field '%s' must be an integer (got %g)", file, field, v);
    *out = (int64_t)v;
    return 0;
}

int rl_json_get_f64(const cJSON *obj, const char *file, const char *field, int required, double dflt,
                    double *out, rl_err *err)
{
    const cJSON *it = cJSON_GetObjectItemCaseSensitive(obj, field);
    if (!it || cJSON_IsNull(it)) {
        if (required) return rl_fail(err, "%s: required field '%s' is missing", file, field);
        *out = dflt;
        return 0;
    }
    if (!cJSON_IsNumber(it) || !isfinite(it->valuedouble))
        return rl_fail(err, "%s: field '%s' must be a number", file, field);
    *out = it->valuedouble;
    return 0;
}

int rl_name_eq(const char *a, const char *b)
{
    for (;;) {
        while (*a == '-' || *a == '_' || *a == ' ') a++;
        while (*b == '-' || *b == '_' || *b == ' ') b++;
        if (!*a || !*b) return *a == *b;
        if (tolower((unsigned char)*a) != tolower((unsigned char)*b)) return 0;
        a++;
        b++;
    }
}

double rl_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec * 1e-6;
}

void rl_json_add_number_or_null(cJSON *o, const char *key, double v)
{
    if (isfinite(v)) cJSON_AddNumberToObject(o, key, v);
    else cJSON_AddNullToObject(o, key);
}

void rl_json_add_string_or_null(cJSON *o, const char *key, const char *s)
{
    if (s && s[0]) cJSON_AddStringToObject(o, key, s);
    else cJSON_AddNullToObject(o, key);
}

int rl_json_save(const char *path, const cJSON *root, rl_err *err)
{
    char *text = cJSON_Print(root);
    if (!text) return rl_fail(err, "%s: cannot serialise JSON (out of memory)", path);
    int rc = rl_write_file_atomic(path, text, err);
    cJSON_free(text);
    return rc;
}

int rl_mkdirs(const char *path, rl_err *err)
{
    char buf[4096];
    size_t n = strlen(path);
    if (n == 0 || n >= sizeof buf) return rl_fail(err, "bad directory path '%s'", path);
    memcpy(buf, path, n + 1);
    for (size_t i = 1; i <= n; i++) {
        if (buf[i] == '/' || buf[i] == 0) {
            char c = buf[i];
            buf[i] = 0;
            if (mkdir(buf, 0755) != 0 && errno != EEXIST)
                return rl_fail(err, "%s: cannot create directory: %s", buf, strerror(errno));
            buf[i] = c;
        }
    }
    struct stat st;
    if (stat(path, &st) != 0 || !S_ISDIR(st.st_mode)) return rl_fail(err, "%s: not a directory", path);
    return 0;
}
