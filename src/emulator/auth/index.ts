export type { AadError, ConsentDecision, EmulatorApp, EmulatorTenantAuth } from './types.ts';
export {
  accessTokenIssuer,
  accessTokenMessages,
  createTokenSigner,
  mintAccessToken,
  servicePrincipalObjectId,
  verifyAccessToken,
  type AccessTokenCheck,
  type AccessTokenClaims,
  type TokenSigner,
} from './access-token.ts';
export { aad, aadErrorBody, entraTimestamp, type AadErrorBody } from './errors.ts';
export { createAuthRoutes, type AuthRequestKind, type AuthRoutesOptions } from './routes.ts';
export type { ConsentGrant } from './consent.ts';
export type { TokenResponseBody } from './token-request.ts';
