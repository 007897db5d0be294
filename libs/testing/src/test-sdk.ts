/** Set by the e2e global setup: the browser SDK built for this run, which identity serves. No imports: global setup loads it unmapped. */
export const TEST_SDK_DIR_ENV = 'SLO_TEST_SDK_DIR';
