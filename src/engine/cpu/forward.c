/* placeholder: the CPU reference engine lands with the engine work item. */
#include "../engine.h"

static int create(const rl_model_config *m, const rl_engine_opts *o, void **state, rl_err *err)
{
    (void)m, (void)o, (void)state;
    return rl_fail(err, "cpu engine: not implemented yet");
}
static void destroy(void *s) { (void)s; }
const rl_backend_ops rl_cpu_backend = {.name = "cpu", .create = create, .destroy = destroy};
