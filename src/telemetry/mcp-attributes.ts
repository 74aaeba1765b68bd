/**
 * Span attribute names. The MCP ones are the OpenTelemetry semantic conventions for MCP
 * (semconv `mcp.*`, `jsonrpc.*`, `gen_ai.*`); they are still "development" status, so they are
 * copied here rather than imported from the incubating entry point of
 * @opentelemetry/semantic-conventions, as that package asks. The `mcplane.*` ones are ours.
 */
export const ATTR = {
  mcpMethodName: 'mcp.method.name',
  mcpSessionId: 'mcp.session.id',
  mcpProtocolVersion: 'mcp.protocol.version',
  mcpResourceUri: 'mcp.resource.uri',
  jsonrpcRequestId: 'jsonrpc.request.id',
  jsonrpcProtocolVersion: 'jsonrpc.protocol.version',
  genAiToolName: 'gen_ai.tool.name',
  genAiPromptName: 'gen_ai.prompt.name',
  genAiOperationName: 'gen_ai.operation.name',
  rpcResponseStatusCode: 'rpc.response.status_code',
  errorType: 'error.type',
  networkTransport: 'network.transport',
  tenant: 'mcplane.tenant',
  principal: 'mcplane.principal',
  server: 'mcplane.server',
  face: 'mcplane.face',
  outcome: 'mcplane.outcome',
  processPid: 'mcplane.process.pid',
  poolWaitMs: 'mcplane.pool.wait_ms',
  policyEffect: 'mcplane.policy.effect',
  policyRule: 'mcplane.policy.rule',
  policyMode: 'mcplane.policy.mode',
  guardFindings: 'mcplane.guard.findings',
  guardDetectors: 'mcplane.guard.detectors',
} as const;
