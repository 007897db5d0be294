export * from './delivery-plan';
export * from './logout-request';
export * from './logout.module';
export * from './logout.service';
export * from './outbox-relay.service';
export * from './session-expiry.service';
export * from './delivery-queries.service';
export * from './endpoint-health.service';
