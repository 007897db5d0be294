/** Unit tests beside the code (*.spec.ts); end-to-end tests in test/ (*.e2e-spec.ts) on real PostgreSQL and Redis. */
const swc = [
  '@swc/jest',
  {
    jsc: {
      parser: { syntax: 'typescript', decorators: true },
      transform: { legacyDecorator: true, decoratorMetadata: true },
      target: 'es2022',
      keepClassNames: true,
    },
    module: { type: 'commonjs' },
  },
];

const common = {
  testEnvironment: 'node',
  transform: { '^.+\\.(t|j)s$': swc },
  // oidc-provider, jose and some of their dependencies ship only as ES modules.
  transformIgnorePatterns: ['/node_modules/(?!(jose|oidc-provider|nanoid|quick-lru|koa|@koa|eta|openid-client|oauth4webapi)/)'],
  moduleNameMapper: { '^@slo/(.*)$': '<rootDir>/libs/$1/src' },
  setupFiles: ['<rootDir>/test/set-test-env.js'],
};

module.exports = {
  projects: [
    { ...common, displayName: 'unit', testMatch: ['<rootDir>/{apps,libs,scripts}/**/*.spec.ts'] },
    {
      ...common,
      displayName: 'e2e',
      testMatch: ['<rootDir>/test/**/*.e2e-spec.ts'],
      globalSetup: '<rootDir>/test/global-setup.ts',
      globalTeardown: '<rootDir>/test/global-teardown.ts',
      slowTestThreshold: 30,
    },
  ],
  testTimeout: 60000,
};
