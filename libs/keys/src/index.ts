export * from './key-envelope';
export * from './keys.module';
export * from './signing-keys.service';
