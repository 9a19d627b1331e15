/* telemetry.c: NVML readings through dlopen. nvml.h supplies the types (RL_HAVE_NVML); the
 * functions are looked up by name so neither the build nor the program needs libnvidia-ml. */
#include "telemetry.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifdef RL_HAVE_NVML
#include <dlfcn.h>
#include <nvml.h>

/* Our own prototypes of the entry points we use: the unversioned symbols stay exported by every
 * driver even where the header marks them deprecated. */
typedef nvmlReturn_t (*fn_init)(void);
typedef nvmlReturn_t (*fn_shutdown)(void);
typedef const char *(*fn_error_string)(nvmlReturn_t);
typedef nvmlReturn_t (*fn_by_pci)(const char *, nvmlDevice_t *);
typedef nvmlReturn_t (*fn_by_index)(unsigned int, nvmlDevice_t *);
typedef nvmlReturn_t (*fn_clock)(nvmlDevice_t, nvmlClockType_t, unsigned int *);
typedef nvmlReturn_t (*fn_power)(nvmlDevice_t, unsigned int *);
typedef nvmlReturn_t (*fn_temp)(nvmlDevice_t, nvmlTemperatureSensors_t, unsigned int *);
typedef nvmlReturn_t (*fn_reasons)(nvmlDevice_t, unsigned long long *);
typedef nvmlReturn_t (*fn_driver)(char *, unsigned int);

struct rl_telemetry {
    void *lib;
    nvmlDevice_t dev;
    fn_shutdown shutdown;
    fn_clock clock;
    fn_power power;
    fn_temp temp;
    fn_reasons reasons;
    char driver[80];
};

rl_telemetry *rl_telemetry_open(const char *pci_bus_id, rl_err *err)
{
    void *lib = dlopen("libnvidia-ml.so.1", RTLD_NOW | RTLD_LOCAL);
    if (!lib) {
        rl_fail(err, "telemetry: libnvidia-ml.so.1 not loadable (%s); clocks, power and temperature are not recorded",
                dlerror());
        return NULL;
    }
    fn_init init = (fn_init)dlsym(lib, "nvmlInit_v2");
    fn_error_string estr = (fn_error_string)dlsym(lib, "nvmlErrorString");
    fn_by_pci by_pci = (fn_by_pci)dlsym(lib, "nvmlDeviceGetHandleByPciBusId_v2");
    fn_by_index by_index = (fn_by_index)dlsym(lib, "nvmlDeviceGetHandleByIndex_v2");
    rl_telemetry *t = calloc(1, sizeof *t);
    if (!t) {
        dlclose(lib);
        rl_fail(err, "telemetry: out of host memory");
        return NULL;
    }
    t->lib = lib;
    t->shutdown = (fn_shutdown)dlsym(lib, "nvmlShutdown");
    t->clock = (fn_clock)dlsym(lib, "nvmlDeviceGetClockInfo");
    t->power = (fn_power)dlsym(lib, "nvmlDeviceGetPowerUsage");
    t->temp = (fn_temp)dlsym(lib, "nvmlDeviceGetTemperature");
    t->reasons = (fn_reasons)dlsym(lib, "nvmlDeviceGetCurrentClocksEventReasons");
    if (!t->reasons) t->reasons = (fn_reasons)dlsym(lib, "nvmlDeviceGetCurrentClocksThrottleReasons");
    if (!init || !t->shutdown || !by_index || !t->clock) {
        rl_fail(err, "telemetry: libnvidia-ml.so.1 lacks nvmlInit_v2/nvmlDeviceGetClockInfo (driver too old?)");
        dlclose(lib);
        free(t);
        return NULL;
    }
    nvmlReturn_t rc = init();
    if (rc != NVML_SUCCESS) {
        rl_fail(err, "telemetry: nvmlInit_v2 failed: %s", estr ? estr(rc) : "unknown error");
        dlclose(lib);
        free(t);
        return NULL;
    }
    rc = NVML_ERROR_NOT_FOUND;
    if (pci_bus_id && *pci_bus_id && by_pci) rc = by_pci(pci_bus_id, &t->dev);
    if (rc != NVML_SUCCESS) rc = by_index(0, &t->dev);
    if (rc != NVML_SUCCESS) {
        rl_fail(err, "telemetry: no NVML device (%s): %s", pci_bus_id && *pci_bus_id ? pci_bus_id : "index 0",
                estr ? estr(rc) : "unknown error");
        t->shutdown();
        dlclose(lib);
        free(t);
        return NULL;
    }
    fn_driver drv = (fn_driver)dlsym(lib, "nvmlSystemGetDriverVersion");
    if (!drv || drv(t->driver, sizeof t->driver) != NVML_SUCCESS) t->driver[0] = 0;
    return t;
}

void rl_telemetry_close(rl_telemetry *t)
{
    if (!t) return;
    t->shutdown();
    dlclose(t->lib);
    free(t);
}

void rl_telemetry_sample(rl_telemetry *t, rl_nvml_sample *s)
{
    memset(s, 0, sizeof *s);
    if (!t) return;
    unsigned v;
    s->valid = 1;
    s->sm_clock_mhz = t->clock(t->dev, NVML_CLOCK_SM, &v) == NVML_SUCCESS ? (double)v : -1;
    s->mem_clock_mhz = t->clock(t->dev, NVML_CLOCK_MEM, &v) == NVML_SUCCESS ? (double)v : -1;
    s->power_w = t->power && t->power(t->dev, &v) == NVML_SUCCESS ? v / 1000.0 : -1; /* NVML reports mW */
    s->temp_c = t->temp && t->temp(t->dev, NVML_TEMPERATURE_GPU, &v) == NVML_SUCCESS ? (double)v : -1;
    unsigned long long r = 0;
    if (t->reasons && t->reasons(t->dev, &r) == NVML_SUCCESS) s->clock_event_reasons = r;
}

const char *rl_telemetry_driver(const rl_telemetry *t) { return t ? t->driver : ""; }

#else /* no nvml.h at configure time */

rl_telemetry *rl_telemetry_open(const char *pci_bus_id, rl_err *err)
{
    (void)pci_bus_id;
    rl_fail(err, "telemetry: not built (nvml.h missing; pip install nvidia-nvml-dev)");
    return NULL;
}

void rl_telemetry_close(rl_telemetry *t) { (void)t; }

void rl_telemetry_sample(rl_telemetry *t, rl_nvml_sample *s)
{
    (void)t;
    memset(s, 0, sizeof *s);
}

const char *rl_telemetry_driver(const rl_telemetry *t)
{
    (void)t;
    return "";
}

#endif
