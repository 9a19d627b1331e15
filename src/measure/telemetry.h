/* telemetry.h: GPU clocks, power and temperature through NVML, opened at run time with
 * dlopen("libnvidia-ml.so.1") so the program runs (without telemetry) where the driver lacks it.
 * Built only where nvml.h was found at configure time (RL_HAVE_NVML). */
#ifndef RL_TELEMETRY_H
#define RL_TELEMETRY_H
#include "../common/err.h"

typedef struct {
    int valid;             /* 0: no reading (no NVML) */
    double sm_clock_mhz;   /* current SM clock */
    double mem_clock_mhz;  /* current memory clock */
    double power_w;        /* board power draw */
    double temp_c;         /* GPU die temperature */
    unsigned long long clock_event_reasons; /* NVML clocks-event (throttle) reason bits, 0 = none */
} rl_nvml_sample;

typedef struct rl_telemetry rl_telemetry;

/* Opens NVML for the GPU at pci_bus_id ("0000:3b:00.0"; NULL or "" = index 0). On failure returns
 * NULL and writes why (not built, library missing, no device) into err: telemetry is optional,
 * the caller records the reason and goes on. */
rl_telemetry *rl_telemetry_open(const char *pci_bus_id, rl_err *err);
void rl_telemetry_close(rl_telemetry *t);

/* One reading now. t may be NULL (then s->valid = 0). Fields NVML refuses read as -1. */
void rl_telemetry_sample(rl_telemetry *t, rl_nvml_sample *s);

/* Driver version as NVML reports it, "" if unknown. */
const char *rl_telemetry_driver(const rl_telemetry *t);

#endif
