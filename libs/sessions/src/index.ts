export * from './oidc-adapter';
