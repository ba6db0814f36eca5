//! Link settings for a Node-API addon (on macOS: resolve `napi_*` symbols at load time).
fn main() {
    napi_build::setup();
}
