/**
 * Workflow interceptors (bundled into the workflow sandbox: deterministic code only) that carry
 * OpenTelemetry through a run — a span for the workflow, and the trace context handed on to every
 * activity it schedules — for runs started by a tracing client only: those whose start carried a
 * trace context header. The header is in the run's first history event, so the answer is the same
 * on every replay; runs started without it (every run from before tracing, every run while it is
 * off) see none of this — OpenTelemetry's interceptors change how a workflow's promises interleave,
 * and put a header (~80 bytes) on every activity they schedule.
 *
 * They do not even load OpenTelemetry. The sandbox evaluates a workflow's modules afresh for every
 * workflow it creates (a new run, or one evicted from the cache), and OpenTelemetry's — its API, its
 * SDK's tracer provider — took ~7 ms of each run's first workflow task before the run scheduled
 * anything (workflow task started → first local activity: ~15 ms with it, ~8 ms without; measured with
 * an activity interceptor's timestamps against the history's, 2026-11-22; `npm run bench -- ttft` shows
 * the effect end to end). So the module is required only once a run is known to be traced; the bundle
 * holds it either way.
 */
import type { WorkflowInterceptors } from '@temporalio/workflow';
import type * as OpenTelemetryWorkflow from '@temporalio/interceptors-opentelemetry/lib/workflow';

/** Where OpenTelemetry's client interceptor puts the trace context (its TRACE_HEADER). */
const TRACE_HEADER = '_tracer-data';

export const interceptors = (): WorkflowInterceptors => {
  // Decided by execute(), the first thing a run's first activation does.
  let on = false;
  const traced = () => on;
  let otel: { inbound: OpenTelemetryWorkflow.OpenTelemetryInboundInterceptor; outbound: OpenTelemetryWorkflow.OpenTelemetryOutboundInterceptor; internals: OpenTelemetryWorkflow.OpenTelemetryInternalsInterceptor } | undefined;
  const load = () => {
    if (!otel) {
      // webpack's require of a bundled module, not Node's: deterministic, evaluated on first use.
      // eslint-disable-next-line no-restricted-globals
      const m = require('@temporalio/interceptors-opentelemetry/lib/workflow') as typeof OpenTelemetryWorkflow;
      otel = { inbound: new m.OpenTelemetryInboundInterceptor(), outbound: new m.OpenTelemetryOutboundInterceptor(), internals: new m.OpenTelemetryInternalsInterceptor() };
    }
    return otel;
  };
  return {
    inbound: [
      {
        execute: (input, next) => {
          on = TRACE_HEADER in input.headers;
          return on ? load().inbound.execute(input, next) : next(input);
        },
        handleSignal: (input, next) => (traced() ? load().inbound.handleSignal(input, next) : next(input)),
      },
    ],
    outbound: [
      {
        scheduleActivity: (input, next) => (traced() ? load().outbound.scheduleActivity(input, next) : next(input)),
        scheduleLocalActivity: (input, next) => (traced() ? load().outbound.scheduleLocalActivity(input, next) : next(input)),
        startChildWorkflowExecution: (input, next) => (traced() ? load().outbound.startChildWorkflowExecution(input, next) : next(input)),
        continueAsNew: (input, next) => (traced() ? load().outbound.continueAsNew(input, next) : next(input)),
        signalWorkflow: (input, next) => (traced() ? load().outbound.signalWorkflow(input, next) : next(input)),
        getLogAttributes: (input, next) => (traced() ? load().outbound.getLogAttributes(input, next) : next(input)),
      },
    ],
    internals: [{ dispose: (input, next) => (otel ? otel.internals.dispose(input, next) : next(input)) }],
  };
};
