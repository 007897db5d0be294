/**
 * The boundaries of docs/architecture.md, enforced (npm run lint:deps; .ci/run runs it):
 * no import cycle anywhere, libraries never import apps, apps never import each other, and a
 * library imports only libraries of a lower layer. Change LAYERS and the page together.
 */
const LAYERS = [
  ['config', 'sdk-browser'],
  ['errors'],
  ['validation'],
  ['database', 'queue', 'observability', 'testing'],
  ['keys', 'sessions', 'ratelimit'],
  ['accounts', 'clients'],
  ['auth', 'delivery'],
  ['logout'],
  ['app-shell'],
];

const layering = LAYERS.flatMap((layer, rank) =>
  layer.map((lib) => {
    const notBelow = LAYERS.slice(rank)
      .flat()
      .filter((other) => other !== lib);
    return {
      name: `layer-${lib}`,
      comment: `libs/${lib} may import only libraries of a lower layer (docs/architecture.md)`,
      severity: 'error',
      from: { path: `^libs/${lib}/` },
      to: { path: `^libs/(${notBelow.join('|')})/` },
    };
  }),
);

module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      comment: 'an import cycle (type-only imports included)',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
    {
      name: 'libs-not-to-apps',
      comment: 'a library never imports an app',
      severity: 'error',
      from: { path: '^libs/' },
      to: { path: '^apps/' },
    },
    {
      name: 'apps-not-to-other-apps',
      comment: 'an app never imports another app (shared code goes into a library)',
      severity: 'error',
      from: { path: '^apps/([^/]+)/' },
      to: { path: '^apps/', pathNot: '^apps/$1/' },
    },
    {
      name: 'testing-only-in-tests',
      comment: 'libs/testing is for tests and benchmarks only',
      severity: 'error',
      from: { path: '^(apps|libs)/', pathNot: ['^libs/testing/', '\\.spec\\.ts$'] },
      to: { path: '^libs/testing/' },
    },
    ...layering,
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '(^|/)(dist|node_modules|\\.tmp)/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    moduleSystems: ['es6', 'cjs'],
  },
};
