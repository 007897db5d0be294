export * from './delivery-plan';
export * from './logout-request';
export * from './logout.module';
export * from './logout.service';
export * from './session-expiry.service';
