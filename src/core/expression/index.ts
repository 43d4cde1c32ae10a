// Entra's expression language for attribute mappings: parse, compile once, evaluate per user. No I/O.
export { compileExpression, expressionAnswer, type CompiledExpression, type Outcome } from './compile.ts';
export { ExpressionError, parseExpression, type ExpressionErrorCode, type Node } from './syntax.ts';
export { FUNCTIONS, type EvaluationContext } from './functions.ts';
export { graphUserAttributes } from './input.ts';
export type { Value } from './values.ts';
