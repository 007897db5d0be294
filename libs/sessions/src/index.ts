export * from './oidc-adapter';
export * from './participation';
