/**
 * Workflow interceptors (bundled into the workflow sandbox: deterministic code only) that carry
 * OpenTelemetry through a run — a span for the workflow, and the trace context handed on to every
 * activity it schedules — for runs started by a tracing client only: those whose start carried a
 * trace context header. The header is in the run's first history event, so the answer is the same
 * on every replay; runs started without it (every run from before tracing, every run while it is
 * off) see none of this — OpenTelemetry's interceptors change how a workflow's promises interleave,
 * and put a header (~80 bytes) on every activity they schedule.
 */
import type { WorkflowInterceptors } from '@temporalio/workflow';
import { OpenTelemetryInboundInterceptor, OpenTelemetryInternalsInterceptor, OpenTelemetryOutboundInterceptor } from '@temporalio/interceptors-opentelemetry/lib/workflow';

/** Where OpenTelemetry's client interceptor puts the trace context (its TRACE_HEADER). */
const TRACE_HEADER = '_tracer-data';

export const interceptors = (): WorkflowInterceptors => {
  // Decided by execute(), the first thing a run's first activation does.
  let on = false;
  const traced = () => on;
  const inbound = new OpenTelemetryInboundInterceptor();
  const outbound = new OpenTelemetryOutboundInterceptor();
  return {
    inbound: [
      {
        execute: (input, next) => {
          on = TRACE_HEADER in input.headers;
          return on ? inbound.execute(input, next) : next(input);
        },
        handleSignal: (input, next) => (traced() ? inbound.handleSignal(input, next) : next(input)),
      },
    ],
    outbound: [
      {
        scheduleActivity: (input, next) => (traced() ? outbound.scheduleActivity(input, next) : next(input)),
        scheduleLocalActivity: (input, next) => (traced() ? outbound.scheduleLocalActivity(input, next) : next(input)),
        startChildWorkflowExecution: (input, next) => (traced() ? outbound.startChildWorkflowExecution(input, next) : next(input)),
        continueAsNew: (input, next) => (traced() ? outbound.continueAsNew(input, next) : next(input)),
        signalWorkflow: (input, next) => (traced() ? outbound.signalWorkflow(input, next) : next(input)),
        getLogAttributes: (input, next) => outbound.getLogAttributes(input, next),
      },
    ],
    internals: [new OpenTelemetryInternalsInterceptor()],
  };
};
