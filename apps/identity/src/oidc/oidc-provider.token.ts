/** Nest injection token of the oidc-provider instance (its own file: importing it pulls in nothing). */
export const OIDC_PROVIDER = Symbol('OIDC_PROVIDER');
