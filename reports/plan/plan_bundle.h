/* plan_bundle.h — the planner's report folder in the common layout of
 * reports/bundle.h: plan.md (inputs, verdict, table, plots embedded,
 * assumptions, the paper's evidence with its source), plan.json, plan.csv,
 * plan.xlsx and plots/. The plans need their sweeps. */
#ifndef QKV_REPORT_PLAN_BUNDLE_H
#define QKV_REPORT_PLAN_BUNDLE_H

#include "reports/bundle.h"
#include "reports/plan/report.h"

report_bundle report_plan_bundle(const report_input *in);

#endif
