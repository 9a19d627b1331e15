/* results_read.c: a results.json back into rl_results (results.h), through the field table of
 * results_fields.c. Lenient where the schema is (peer engines write fewer fields; unknown fields
 * are ignored), strict on what is there: a wrong type or an impossible value is an error that
 * names the file and the field path. */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <string.h>

#include "../common/util.h"
#include "results_fields.h"

/* An optional object; a wrong type is an error. */
static int object_at(const cJSON *parent, const char *where, const char *field, const cJSON **out, rl_err *err)
{
    const cJSON *it = cJSON_GetObjectItemCaseSensitive(parent, field);
    *out = NULL;
    if (!it || cJSON_IsNull(it)) return 0;
    if (!cJSON_IsObject(it)) return rl_fail(err, "%s: field '%s' must be an object", where, field);
    *out = it;
    return 0;
}

/* An optional array; a wrong type is an error. */
static int array_at(const cJSON *parent, const char *where, const char *field, int required, const cJSON **out,
                    rl_err *err)
{
    const cJSON *it = cJSON_GetObjectItemCaseSensitive(parent, field);
    *out = NULL;
    if (!it || cJSON_IsNull(it)) {
        if (required)
            return rl_fail(err, "%s: required field '%s' is missing or not an array (docs/results-schema.md)", where,
                           field);
        return 0;
    }
    if (!cJSON_IsArray(it)) return rl_fail(err, "%s: field '%s' must be an array", where, field);
    *out = it;
    return 0;
}

static int read_point(const cJSON *o, const char *where, rl_results *r, rl_err *err)
{
    if (!cJSON_IsObject(o)) return rl_fail(err, "%s: must be an object", where);
    rl_point p;
    rl_point_init(&p, RL_PHASE_DECODE, 0);
    /* Unconditional fields first (sweep, x, status), then the ones those decide. */
    if (rl_fields_read(o, where, &rl_point_fields, &p, 0, err) ||
        rl_fields_read(o, where, &rl_point_fields, &p, rl_point_context(&p), err))
        return -1;
    if (p.x < 1) return rl_fail(err, "%s: field 'x' must be >= 1 (batch or length)", where);
    if (p.ok && !(p.ms > 0)) return rl_fail(err, "%s: field 'ms' must be > 0 (got %g)", where, p.ms);
    if (p.input_len < 0) p.input_len = RL_SEED_INPUT_LEN;
    if (p.output_len < 0) p.output_len = RL_SEED_OUTPUT_LEN;
    if (p.context < 0) p.context = rl_decode_context(p.input_len, p.output_len);
    if (p.batch < 0) p.batch = p.sweep == RL_PHASE_DECODE ? p.x : 1;
    return rl_results_add_point(r, &p, err);
}

static int read_kernel(const cJSON *o, const char *where, rl_results *r, rl_err *err)
{
    if (!cJSON_IsObject(o)) return rl_fail(err, "%s: must be an object", where);
    rl_kernel_row k;
    memset(&k, 0, sizeof k);
    if (rl_fields_read(o, where, &rl_kernel_fields, &k, 0, err)) return -1;
    if (!(k.ms >= 0)) return rl_fail(err, "%s: field 'ms' must be >= 0", where);
    return rl_results_add_kernel(r, &k, err);
}

static int read_profile(const cJSON *o, const char *where, rl_results *r, rl_err *err)
{
    if (!cJSON_IsObject(o)) return rl_fail(err, "%s: must be an object", where);
    rl_profile p;
    memset(&p, 0, sizeof p);
    if (rl_fields_read(o, where, &rl_profile_fields, &p, 0, err)) return -1;
    return rl_results_add_profile(r, &p, err);
}

static int read_kernel_choice(const cJSON *o, const char *where, rl_results *r, rl_err *err)
{
    if (!cJSON_IsObject(o)) return rl_fail(err, "%s: must be an object", where);
    rl_linear_choice c;
    memset(&c, 0, sizeof c);
    if (rl_fields_read(o, where, &rl_choice_fields, &c, 0, err)) return -1;
    if (c.tokens < 1 || c.n < 0 || c.k < 0)
        return rl_fail(err, "%s: field 'tokens' must be >= 1 and 'n', 'k' >= 0", where);
    return rl_results_add_choices(r, &c, 1, err);
}

typedef int (*read_item)(const cJSON *o, const char *where, rl_results *r, rl_err *err);

static int read_array(const cJSON *root, const char *path, const char *field, int required, read_item fn,
                      rl_results *r, rl_err *err)
{
    const cJSON *a, *it;
    if (array_at(root, path, field, required, &a, err)) return -1;
    int i = 0;
    cJSON_ArrayForEach(it, a)
    {
        char where[700];
        snprintf(where, sizeof where, "%s: %s[%d]", path, field, i++);
        if (fn(it, where, r, err)) return -1;
    }
    return 0;
}

int rl_results_from_json(const cJSON *root, const char *path, rl_results *r, rl_err *err)
{
    char where[700];
    const cJSON *tool, *dev, *model, *roofs, *sweeps;
    const cJSON *schema = cJSON_GetObjectItemCaseSensitive(root, "schema");
    if (cJSON_IsString(schema) && strncmp(schema->valuestring, "ridgeline-results/", 18))
        return rl_fail(err, "%s: field 'schema' is '%s', expected ridgeline-results/1 (docs/results-schema.md)", path,
                       schema->valuestring);
    const cJSON *engine = cJSON_GetObjectItemCaseSensitive(root, "engine");
    if (engine && !cJSON_IsNull(engine) && !cJSON_IsString(engine))
        return rl_fail(err, "%s: field 'engine' must be a string", path);
    snprintf(r->engine, sizeof r->engine, "%s", cJSON_IsString(engine) ? engine->valuestring : "ridgeline");
    if (object_at(root, path, "tool", &tool, err) || object_at(root, path, "device", &dev, err) ||
        object_at(root, path, "model", &model, err) || object_at(root, path, "roofs", &roofs, err) ||
        object_at(root, path, "sweeps", &sweeps, err))
        return -1;
    r->version[0] = r->commit[0] = r->command[0] = r->date[0] = 0;
    snprintf(where, sizeof where, "%s: tool", path);
    if (tool && rl_fields_read(tool, where, &rl_tool_fields, r, 0, err)) return -1;
    if (!dev) return rl_fail(err, "%s: required field 'device' is missing (device.name names the GPU)", path);
    snprintf(where, sizeof where, "%s: device", path);
    if (rl_fields_read(dev, where, &rl_device_fields, &r->device, 0, err)) return -1;
    if (!r->device.name[0]) return rl_fail(err, "%s: field 'device.name' is missing or empty", path);
    snprintf(where, sizeof where, "%s: model", path);
    r->dtype[0] = 0;
    if (model && rl_fields_read(model, where, &rl_model_fields, r, 0, err)) return -1;
    r->have_probe = roofs != NULL;
    if (roofs) {
        snprintf(where, sizeof where, "%s: roofs", path);
        if (rl_fields_read(roofs, where, &rl_probe_fields, &r->probe, 0, err)) return -1;
    }
    if (sweeps) {
        int64_t v;
        snprintf(where, sizeof where, "%s: sweeps", path);
        if (rl_json_get_i64(sweeps, where, "input_len", 0, 0, &v, err)) return -1;
        r->input_len = v;
        if (rl_json_get_i64(sweeps, where, "output_len", 0, 0, &v, err)) return -1;
        r->output_len = v;
        const cJSON *in = cJSON_GetObjectItemCaseSensitive(sweeps, "interrupted");
        r->interrupted = cJSON_IsTrue(in);
    }
    if (read_array(root, path, "points", 1, read_point, r, err) ||
        read_array(root, path, "kernels", 0, read_kernel, r, err) ||
        read_array(root, path, "profiles", 0, read_profile, r, err) ||
        read_array(root, path, "kernel_choices", 0, read_kernel_choice, r, err))
        return -1;
    return 0;
}
