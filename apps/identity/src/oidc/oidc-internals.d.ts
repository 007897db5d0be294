declare module 'oidc-provider/lib/helpers/initialize_keystore.js' {
  /** Called with the provider as `this`: builds its keystore and published JWKS from a JWK set. */
  export default function initializeKeystore(jwks: unknown): void;
}
