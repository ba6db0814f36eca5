//! Raw napi calls that may run the caller's JavaScript (a getter, `toJSON`, a Proxy trap), with
//! whatever that code throws caught as the thrown value itself.
//!
//! napi-rs turns a thrown value into an `Error` by converting it to a string and taking a
//! reference to it: a thrown symbol then leaves a new `TypeError` pending (which replaced the
//! engine's own error), and a thrown string or `undefined` became "Create Error reference failed".
//! Here a thrown value is only looked at in ways that cannot throw again, and is either described
//! (a body that cannot be serialized is a rejected input) or thrown again unchanged.

use std::ffi::CString;
use std::ptr;

use napi::bindgen_prelude::*;
use napi::{sys, JsString, JsValue, ValueType};

/// Something failed while JavaScript ran or napi worked.
pub(crate) enum Caught {
    /// JavaScript threw this value (no longer pending).
    Thrown(sys::napi_value),
    /// napi itself failed.
    Napi(Error),
}

impl From<Error> for Caught {
    fn from(e: Error) -> Self {
        Caught::Napi(e)
    }
}

/// The result of a call that may run the caller's JavaScript.
pub(crate) type Ran<T> = std::result::Result<T, Caught>;

/// `Ok` for a successful call; the thrown value (taken off the env) for one that threw.
fn check(env: sys::napi_env, status: sys::napi_status) -> Ran<()> {
    match status {
        sys::Status::napi_ok => Ok(()),
        sys::Status::napi_pending_exception => {
            let mut value = ptr::null_mut();
            // SAFETY: `env` is the live env of the current call.
            let taken = unsafe { sys::napi_get_and_clear_last_exception(env, &mut value) };
            if taken == sys::Status::napi_ok && !value.is_null() {
                Err(Caught::Thrown(value))
            } else {
                Err(Caught::Napi(Error::from_reason("a JavaScript exception could not be read")))
            }
        }
        s => Err(Caught::Napi(Error::new(Status::from(s), "napi call failed".to_owned()))),
    }
}

impl Caught {
    /// The error to return from a napi method: a thrown value is thrown again, unchanged.
    pub(crate) fn rethrow(self, env: &Env) -> Error {
        match self {
            Caught::Thrown(value) => {
                // SAFETY: `value` is a value of this env, taken off it by `check`.
                if unsafe { sys::napi_throw(env.raw(), value) } == sys::Status::napi_ok {
                    // Pending and tagged so: napi-rs leaves the exception as it is.
                    Error::new(Status::PendingException, String::new())
                } else {
                    Error::from_reason("a JavaScript exception could not be thrown again")
                }
            }
            Caught::Napi(e) => e,
        }
    }

    /// Why a value could not be serialized: the thrown `Error`'s message, a thrown string, or
    /// the kind of value thrown. Reading it never throws (a throwing `message` getter is ignored).
    pub(crate) fn reason(self, env: &Env) -> String {
        match self {
            Caught::Thrown(value) => describe_thrown(env, value),
            Caught::Napi(e) => e.reason.clone(),
        }
    }
}

fn type_of(env: &Env, value: sys::napi_value) -> Option<ValueType> {
    let mut t = 0;
    // SAFETY: `value` is a value of this env.
    let status = unsafe { sys::napi_typeof(env.raw(), value, &mut t) };
    (status == sys::Status::napi_ok).then(|| ValueType::from(t))
}

/// The UTF-8 text of a JS string value (no JavaScript runs).
fn string_value(env: &Env, value: sys::napi_value) -> Option<String> {
    // SAFETY: `value` is a JS string of this env (callers check), read as napi-rs reads strings.
    let s = unsafe { JsString::from_napi_value(env.raw(), value) }.ok()?;
    s.into_utf8().ok()?.into_owned().ok()
}

fn describe_thrown(env: &Env, value: sys::napi_value) -> String {
    match type_of(env, value) {
        Some(ValueType::String) => string_value(env, value).unwrap_or_default(),
        Some(ValueType::Object | ValueType::Function) => {
            let message = get(env, value, "message").ok();
            match message.filter(|m| type_of(env, *m) == Some(ValueType::String)) {
                Some(m) => string_value(env, m).unwrap_or_default(),
                None => "it throws an object that is not an Error".into(),
            }
        }
        Some(ValueType::Undefined) => "it throws undefined".into(),
        Some(ValueType::Null) => "it throws null".into(),
        Some(ValueType::Symbol) => "it throws a symbol".into(),
        Some(ValueType::Number) => "it throws a number".into(),
        Some(ValueType::Boolean) => "it throws a boolean".into(),
        _ => "it throws".into(),
    }
}

/// `object[key]` (a getter or Proxy trap may run).
pub(crate) fn get(env: &Env, object: sys::napi_value, key: &str) -> Ran<sys::napi_value> {
    let key = CString::new(key).map_err(|e| Error::from_reason(e.to_string()))?;
    let mut out = ptr::null_mut();
    // SAFETY: `object` is a value of this env; a non-object makes napi fail, which is checked.
    check(env.raw(), unsafe { sys::napi_get_named_property(env.raw(), object, key.as_ptr(), &mut out) })?;
    Ok(out)
}

/// `array[i]` (a getter or Proxy trap may run).
pub(crate) fn element(env: &Env, array: sys::napi_value, i: u32) -> Ran<sys::napi_value> {
    let mut out = ptr::null_mut();
    // SAFETY: as in `get`.
    check(env.raw(), unsafe { sys::napi_get_element(env.raw(), array, i, &mut out) })?;
    Ok(out)
}

/// `array.length` (a Proxy trap may run).
pub(crate) fn length(env: &Env, array: sys::napi_value) -> Ran<u32> {
    let mut n = 0;
    // SAFETY: `array` is a JS array of this env (callers check).
    check(env.raw(), unsafe { sys::napi_get_array_length(env.raw(), array, &mut n) })?;
    Ok(n)
}

/// `Object.keys(object)` (a Proxy trap may run).
pub(crate) fn keys(env: &Env, object: sys::napi_value) -> Ran<Vec<String>> {
    let names = call_global(env, "Object", "keys", object)?;
    let n = length(env, names)?;
    let mut out = Vec::with_capacity(n as usize);
    for i in 0..n {
        let key = element(env, names, i)?;
        out.push(string_value(env, key).unwrap_or_default());
    }
    Ok(out)
}

/// `globalThis[namespace][function](arg)`, called on the namespace.
fn call_global(env: &Env, namespace: &str, function: &str, arg: sys::napi_value) -> Ran<sys::napi_value> {
    let global = env.get_global()?.raw();
    let this = get(env, global, namespace)?;
    let f = get(env, this, function)?;
    let mut out = ptr::null_mut();
    let args = [arg];
    // SAFETY: `f` and `this` are values of this env; napi fails (checked) if `f` is no function.
    check(env.raw(), unsafe { sys::napi_call_function(env.raw(), this, f, 1, args.as_ptr(), &mut out) })?;
    Ok(out)
}

/// `JSON.stringify(value)`: its text, `None` when it gives none (`undefined`, a function), or
/// what the serializer (or the value's `toJSON`) threw.
pub(crate) fn stringify(env: &Env, value: sys::napi_value) -> Ran<Option<String>> {
    let out = call_global(env, "JSON", "stringify", value)?;
    Ok(if type_of(env, out) == Some(ValueType::String) { string_value(env, out) } else { None })
}

/// A copy of `len` bytes at `data`, the memory of a JS buffer.
///
/// That memory may be a `SharedArrayBuffer` another thread writes while we read it, so no Rust
/// reference (`&[u8]`, which promises the bytes do not change) is ever made to it: the bytes are
/// copied out once, with a raw copy, and the engine judges only its own copy (issue 16: validated
/// bytes that changed before they were used crashed the process).
///
/// # Safety
/// `data` must be valid for reads of `len` bytes (or `len` must be 0).
unsafe fn copy_out(data: *const u8, len: usize) -> Vec<u8> {
    let mut v = Vec::<u8>::with_capacity(len);
    if len > 0 {
        // SAFETY: `data` is readable for `len` bytes (caller), `v` has room for `len` bytes, and a
        // fresh Vec cannot overlap host memory.
        unsafe {
            std::ptr::copy_nonoverlapping(data, v.as_mut_ptr(), len);
            v.set_len(len);
        }
    }
    v
}

/// The bytes of a string, `Uint8Array` (`Buffer`) or `ArrayBuffer`, if `v` is one, copied into
/// memory of our own (see [`copy_out`]; a string is copied by napi itself).
pub(crate) fn raw_bytes(env: &Env, v: Unknown<'_>) -> Result<Option<Vec<u8>>> {
    if v.get_type()? == ValueType::String {
        let s: JsString<'_> = v.coerce_to_string()?;
        return Ok(Some(s.into_utf8()?.into_owned()?.into_bytes()));
    }
    let (mut data, mut len) = (std::ptr::null_mut::<std::ffi::c_void>(), 0usize);
    if v.is_typedarray()? {
        let mut kind = 0;
        // SAFETY: `v` is a live typed array of this env (checked just above); the optional
        // outputs we do not need are null, which napi allows.
        let status = unsafe {
            sys::napi_get_typedarray_info(
                env.raw(),
                v.raw(),
                &mut kind,
                &mut len,
                &mut data,
                std::ptr::null_mut(),
                std::ptr::null_mut(),
            )
        };
        // Only a Uint8Array (a Buffer is one) is bytes; other typed arrays go to JSON.stringify.
        if status != sys::Status::napi_ok || kind != sys::TypedarrayType::uint8_array {
            return Ok(None);
        }
    } else if v.is_arraybuffer()? {
        // SAFETY: `v` is a live ArrayBuffer of this env (checked just above).
        let status = unsafe { sys::napi_get_arraybuffer_info(env.raw(), v.raw(), &mut data, &mut len) };
        if status != sys::Status::napi_ok {
            return Ok(None);
        }
    } else {
        return Ok(None);
    }
    // SAFETY: napi gave `data` as the start of the array's `len` bytes, alive during this call
    // (no JavaScript runs in between that could detach or resize the buffer).
    Ok(Some(unsafe { copy_out(data.cast::<u8>(), len) }))
}
