/** The script-tag build: defines `window.SPiD` (kept if the script is included twice). */
import SPiD from './index';

const scope = globalThis as { SPiD?: typeof SPiD };
scope.SPiD ??= SPiD;
