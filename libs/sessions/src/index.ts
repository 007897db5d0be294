export * from './oidc-adapter';
export * from './participation';
export * from './session-ending';
export * from './token-hash';
