// ES module entry for Node (see index.cjs: native addon when installed, else WebAssembly).
import cjs from './index.cjs';

export const { StatusEngine, StatusStore, backend, nativeError, init, initSync, ERROR_CODES, isStatusError } = cjs;
export default init;
