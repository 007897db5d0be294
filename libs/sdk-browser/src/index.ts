/** The browser SDK as an ES module: `import SPiD from '<identity>/sdk/spid.mjs'`. */
import { createSPiD } from './spid';

/** The shared instance; the script-tag build exposes the same as `window.SPiD`. */
const SPiD = createSPiD();

export default SPiD;
export { SPiD, createSPiD };
export type * from './types';
