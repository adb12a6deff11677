/**
 * The `steps` bench's LangGraph JS comparison: an agent graph (agent ⇄ tool) whose model answers in
 * process at once, checkpointed after every super-step by LangGraph's SQLite saver (better-sqlite3,
 * a file on disk: a durable commit per checkpoint).
 */
import { Annotation, END, START, StateGraph } from '@langchain/langgraph';
import { SqliteSaver } from '@langchain/langgraph-checkpoint-sqlite';

const AgentState = Annotation.Root({
  turn: Annotation<number>(),
  steps: Annotation<number>(),
  messages: Annotation<string[]>({ reducer: (a, b) => a.concat(b), default: () => [] }),
});

export function langGraphAgent(dbFile: string) {
  const graph = new StateGraph(AgentState)
    .addNode('agent', (s: typeof AgentState.State) => ({ turn: s.turn + 1, messages: [s.turn + 1 > s.steps ? 'assistant: done' : `assistant: tool_use ${s.turn + 1}`] }))
    .addNode('tool', (s: typeof AgentState.State) => ({ messages: [`tool: listed for turn ${s.turn}`] }))
    .addEdge(START, 'agent')
    .addConditionalEdges('agent', (s: typeof AgentState.State) => (s.turn > s.steps ? END : 'tool'))
    .addEdge('tool', 'agent');
  const checkpointer = SqliteSaver.fromConnString(dbFile);
  const app = graph.compile({ checkpointer });
  return {
    run: (threadId: string, steps: number) => app.invoke({ turn: 0, steps }, { configurable: { thread_id: threadId }, recursionLimit: 10_000 }),
  };
}
