/* util.h: small helpers shared by every stage: strict number parsing, comma lists, CSV fields,
 * cJSON access with named-field errors; file reads and writes come from fileio.h. */
#ifndef RL_UTIL_H
#define RL_UTIL_H
#include <stdint.h>
#include <stdio.h>

#include "err.h"
#include "fileio.h"

struct cJSON;

/* Strict integer / double parsing: the whole string must be a number within [lo, hi].
 * what names the flag or field in the message. */
int rl_parse_i64(const char *s, int64_t lo, int64_t hi, const char *what, int64_t *out, rl_err *err);
int rl_parse_f64(const char *s, double lo, double hi, const char *what, double *out, rl_err *err);

/* Parses "1,4,16" into out (max n_max values), each within [lo, hi]. Returns count or -1. */
int rl_parse_i64_list(const char *s, int64_t lo, int64_t hi, const char *what, int64_t *out, int n_max,
                      rl_err *err);

/* Splits one CSV line in place into at most max fields; a field may be double-quoted (with ""
 * for a quote, and commas inside). Returns the number of fields, max + 1 when there are more. */
int rl_csv_split(char *line, char **fields, int max);

/* Parses a JSON file with cJSON (rl_json_load_max: at most max_bytes). Caller deletes. */
struct cJSON *rl_json_load(const char *path, rl_err *err);
struct cJSON *rl_json_load_max(const char *path, size_t max_bytes, rl_err *err);

/* Typed field access. Missing or wrong-typed required fields fail with "FILE: field 'NAME' ...". */
int rl_json_get_i64(const struct cJSON *obj, const char *file, const char *field, int required, int64_t dflt,
                    int64_t *out, rl_err *err);
int rl_json_get_f64(const struct cJSON *obj, const char *file, const char *field, int required, double dflt,
                    double *out, rl_err *err);

/* Case-insensitive equality, ignoring '-', '_' and ' ' (so "a100-pcie" == "A100 PCIe"). */
int rl_name_eq(const char *a, const char *b);

/* Monotonic wall clock in milliseconds. */
double rl_now_ms(void);

/* Adds a number, or null when v is NaN or infinite (JSON has neither). */
void rl_json_add_number_or_null(struct cJSON *o, const char *key, double v);
/* Adds a string, or null when s is NULL or empty. */
void rl_json_add_string_or_null(struct cJSON *o, const char *key, const char *s);

/* Writes cJSON to a file atomically, pretty-printed. */
int rl_json_save(const char *path, const struct cJSON *root, rl_err *err);

/* mkdir -p. */
int rl_mkdirs(const char *path, rl_err *err);

/* The commit this binary was built from (set by CMake), or "unknown". */
const char *rl_build_commit(void);
const char *rl_version(void);

#endif
