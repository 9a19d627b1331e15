/* results_fields.h: THE field table of results.json. Each record type (point, kernel row,
 * profile, roofs, device, tool, model) lists its JSON fields once with their type, the struct member
 * they live in and how absence is marked; the writer (results.c) and the reader (results_read.c,
 * used by the report) both walk these tables, so a field cannot be written under one name and read
 * under another. Derived figures (roof_pct, achieved_gbps, ...) are written beside them and never
 * read back: the reader recomputes them. */
#ifndef RL_RESULTS_FIELDS_H
#define RL_RESULTS_FIELDS_H
#include <stddef.h>

#include "results.h"

struct cJSON;

typedef enum {
    RL_FT_F64,    /* double */
    RL_FT_I64,    /* int64_t */
    RL_FT_INT,    /* int */
    RL_FT_STR,    /* char[size] */
    RL_FT_BOOL,   /* int, written true/false */
    RL_FT_PHASE,  /* rl_phase, "decode" | "prefill" */
    RL_FT_STATUS, /* int ok, "ok" | "failed" (absent: ok) */
    RL_FT_BOUND,  /* int compute_bound, "compute" | "memory" */
    RL_FT_TIMING, /* rl_timing, "cupti" | "events" */
    RL_FT_OPS,    /* unsigned op mask, an array of operator names (ops.h) */
} rl_field_type;

enum {
    RL_FF_REQUIRED = 1u << 0, /* reading fails without it */
    RL_FF_NULL_NEG = 1u << 1, /* a negative (not measured) value is written null; null reads as -1 */
    RL_FF_NULL_EMPTY = 1u << 2, /* an empty string is written null */
    RL_FF_OMIT_ZERO = 1u << 3, /* a zero number is left out */
    RL_FF_IF_OK = 1u << 4,    /* points: only when the point was measured */
    RL_FF_IF_FAILED = 1u << 5, /* points: only when it failed */
    RL_FF_DECODE = 1u << 6,   /* points: decode only */
};

typedef struct {
    const char *name;
    rl_field_type type;
    size_t offset, size;
    unsigned flags;
} rl_field;

typedef struct {
    const rl_field *f;
    int n;
} rl_field_table;

extern const rl_field_table rl_point_fields, rl_kernel_fields, rl_profile_fields, rl_probe_fields, rl_device_fields,
    rl_tool_fields, rl_model_fields, rl_choice_fields;

/* The flags a record's conditional fields are tested against (RL_FF_IF_OK, RL_FF_DECODE, ...). */
unsigned rl_point_context(const rl_point *p);

/* Adds the table's fields of rec to o; fields whose condition bits are not in ctx are skipped. */
void rl_fields_write(struct cJSON *o, const rl_field_table *t, const void *rec, unsigned ctx);
/* Reads them back (absent optional fields: -1 for RL_FF_NULL_NEG numbers, else 0 / ""); only the
 * fields whose condition bits are in ctx. Errors name where.field. */
int rl_fields_read(const struct cJSON *o, const char *where, const rl_field_table *t, void *rec, unsigned ctx,
                   rl_err *err);

#endif
