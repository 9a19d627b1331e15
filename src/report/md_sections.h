/* md_sections.h: the markdown sections of report.md, one function each (tables_md.c assembles). */
#ifndef RL_MD_SECTIONS_H
#define RL_MD_SECTIONS_H
#include "report_model.h"
#include "sbuf.h"

/* tables_md.c: GPU x batch / length tables and the comparisons */
void rl_md_sweep_tables(rl_sbuf *b, const rl_report_data *d);
void rl_md_batch1(rl_sbuf *b, const rl_report_data *d);
/* The decode context sweep: measured, predicted, roof % and the model's attention share per point. */
void rl_md_context_sweep(rl_sbuf *b, const rl_report_data *d);
void rl_md_predicted_vs_measured(rl_sbuf *b, const rl_report_data *d);
void rl_md_transitions(rl_sbuf *b, const rl_report_data *d);

/* sections_md.c: per-kernel, telemetry, violations, provenance, notes */
void rl_md_kernels(rl_sbuf *b, const rl_report_data *d);
/* Which kernel ran each projection shape (results.json kernel_choices); nothing when no run has any. */
void rl_md_kernel_choices(rl_sbuf *b, const rl_report_data *d);
void rl_md_ncu_check(rl_sbuf *b, const rl_report_data *d);
void rl_md_telemetry(rl_sbuf *b, const rl_report_data *d);
void rl_md_violations(rl_sbuf *b, const rl_report_data *d);
void rl_md_provenance(rl_sbuf *b, const rl_report_data *d);

/* tp_scaling.c: step time vs GPU count against the compute, memory and communication roofs */
void rl_md_tp_scaling(rl_sbuf *b, const rl_report_data *d);

/* "1.23e+13" -> "1.23e13": shorter in tables. */
const char *rl_md_fmt_sci(double v, char *buf, int n);
/* Percentage with one decimal, "–" for NAN. */
const char *rl_md_fmt_pct(double v, char *buf, int n);

#endif
