/** The tools every worker has. Add a tool: write one file like these, then list it here. */
import type { ToolDefinition } from '../tool';
import { askUser } from './ask-user';
import { createHttpRequestTool, type HttpToolOptions } from './http-request';
import { workspaceList } from './workspace-list';
import { workspaceRead } from './workspace-read';
import { workspaceWrite } from './workspace-write';

export function builtinTools(opts: { http: HttpToolOptions }): ToolDefinition<any>[] {
  return [workspaceList, workspaceRead, workspaceWrite, createHttpRequestTool(opts.http), askUser];
}
