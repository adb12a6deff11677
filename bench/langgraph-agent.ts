/**
 * The `steps` bench's LangGraph JS comparison: an agent graph (agent ⇄ tool) asking the bench's model
 * (in process or over HTTP), checkpointed after every super-step by LangGraph's SQLite saver
 * (better-sqlite3, a file on disk: a durable commit per checkpoint).
 */
import { Annotation, END, START, StateGraph } from '@langchain/langgraph';
import { SqliteSaver } from '@langchain/langgraph-checkpoint-sqlite';
import type { BenchModel } from './bench-model';

const AgentState = Annotation.Root({
  turn: Annotation<number>(),
  steps: Annotation<number>(),
  done: Annotation<boolean>(),
  messages: Annotation<string[]>({ reducer: (a, b) => a.concat(b), default: () => [] }),
});

export function langGraphAgent(dbFile: string, model: BenchModel) {
  const graph = new StateGraph(AgentState)
    .addNode('agent', async (s: typeof AgentState.State) => {
      const done = await model.done(s.turn + 1, s.steps);
      return { turn: s.turn + 1, done, messages: [done ? 'assistant: done' : `assistant: tool_use ${s.turn + 1}`] };
    })
    .addNode('tool', (s: typeof AgentState.State) => ({ messages: [`tool: listed for turn ${s.turn}`] }))
    .addEdge(START, 'agent')
    .addConditionalEdges('agent', (s: typeof AgentState.State) => (s.done ? END : 'tool'))
    .addEdge('tool', 'agent');
  const checkpointer = SqliteSaver.fromConnString(dbFile);
  const app = graph.compile({ checkpointer });
  return {
    run: (threadId: string, steps: number) => app.invoke({ turn: 0, steps, done: false }, { configurable: { thread_id: threadId }, recursionLimit: 10_000 }),
  };
}
