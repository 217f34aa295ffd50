//! `#[vitro_sdk::device]` on an `impl Device for T` block: the hooks `T` declares to the host are
//! exactly the hook methods the block defines, so the declaration cannot drift from the code; with
//! `routes(lan_v1, ...)`, `device/call`s of those templates' methods reach `T`'s template traits.

use proc_macro::TokenStream;
use quote::{format_ident, quote};
use syn::punctuated::Punctuated;
use syn::{parse_macro_input, parse_quote, FnArg, Ident, ImplItem, ImplItemFn, ItemImpl, Pat, Token};

/// Implements `Device` with `async_trait` and derives `Device::hooks` from the methods the block
/// defines: `boot` declares the `boot` hook, `skip_boot` the `skip-boot` hook, and so on (every
/// method but `call`, which answers custom device methods).
///
/// `#[vitro_sdk::device(routes(lan_v1, wan_v1))]` also sends `device/call`s of those templates'
/// methods (`vitro_sdk::templates::lan_v1::route`) to the type's implementation of their traits,
/// before the block's own `call` sees the rest; the type must implement the traits.
#[proc_macro_attribute]
pub fn device(attr: TokenStream, item: TokenStream) -> TokenStream {
    let routes = match parse_routes(attr) {
        Ok(routes) => routes,
        Err(e) => return e.to_compile_error().into(),
    };
    let mut block = parse_macro_input!(item as ItemImpl);
    let mut hooks = Vec::new();
    for item in &block.items {
        let ImplItem::Fn(method) = item else { continue };
        let name = method.sig.ident.to_string();
        if name == "hooks" {
            return syn::Error::new_spanned(
                &method.sig,
                "#[device] writes `hooks` itself from the methods defined here",
            )
            .to_compile_error()
            .into();
        }
        if name != "call" {
            let variant: String = name
                .split('_')
                .map(|word| {
                    let mut chars = word.chars();
                    chars.next().map(|c| c.to_uppercase().chain(chars).collect()).unwrap_or_default()
                })
                .collect::<Vec<String>>()
                .concat();
            hooks.push(format_ident!("{}", variant, span = method.sig.ident.span()));
        }
    }
    if !routes.is_empty() {
        if let Err(e) = route_calls(&mut block, &routes) {
            return e.to_compile_error().into();
        }
    }
    block.items.push(parse_quote! {
        fn hooks() -> &'static [::vitro_sdk::protocol::types::Hook]
        where
            Self: Sized,
        {
            &[#(::vitro_sdk::protocol::types::Hook::#hooks),*]
        }
    });
    quote!(#[::vitro_sdk::async_trait] #block).into()
}

/// The template modules of `routes(a, b)`; nothing for an empty attribute.
fn parse_routes(attr: TokenStream) -> syn::Result<Vec<Ident>> {
    if attr.is_empty() {
        return Ok(Vec::new());
    }
    let meta: syn::MetaList = syn::parse(attr)?;
    if !meta.path.is_ident("routes") {
        return Err(syn::Error::new_spanned(
            meta.path,
            "#[device] takes only `routes(template_module, ...)`",
        ));
    }
    let modules = meta.parse_args_with(Punctuated::<Ident, Token![,]>::parse_terminated)?;
    Ok(modules.into_iter().collect())
}

/// Replaces the block's `call` (or the default one) with one that tries each template's router
/// first, then runs the original body with the original parameter patterns.
fn route_calls(block: &mut ItemImpl, routes: &[Ident]) -> syn::Result<()> {
    let existing =
        block.items.iter().position(|item| matches!(item, ImplItem::Fn(f) if f.sig.ident == "call"));
    let (patterns, body) = match existing {
        Some(index) => {
            let ImplItem::Fn(own) = block.items.remove(index) else { unreachable!("found as a fn above") };
            (call_patterns(&own)?, own.block)
        }
        None => (
            vec![parse_quote!(_), parse_quote!(method), parse_quote!(_)],
            parse_quote!({
                Err(::vitro_sdk::DriverError::new(
                    ::vitro_sdk::protocol::ErrorKind::MethodNotFound,
                    format!("no device method `{method}`"),
                ))
            }),
        ),
    };
    let (ctx, method, params) = (&patterns[0], &patterns[1], &patterns[2]);
    block.items.push(parse_quote! {
        async fn call(
            &self,
            __vitro_ctx: &::vitro_sdk::Context,
            __vitro_method: &str,
            __vitro_params: ::vitro_sdk::serde_json::Value,
        ) -> ::vitro_sdk::DriverResult<::vitro_sdk::serde_json::Value> {
            #(
                if let Some(result) = ::vitro_sdk::templates::#routes::route(
                    self, __vitro_ctx, __vitro_method, &__vitro_params,
                ).await {
                    return result;
                }
            )*
            let #ctx = __vitro_ctx;
            let #method = __vitro_method;
            let #params = __vitro_params;
            #body
        }
    });
    Ok(())
}

fn call_patterns(own: &ImplItemFn) -> syn::Result<Vec<Pat>> {
    let patterns: Vec<Pat> = own
        .sig
        .inputs
        .iter()
        .filter_map(|arg| match arg {
            FnArg::Typed(typed) => Some((*typed.pat).clone()),
            FnArg::Receiver(_) => None,
        })
        .collect();
    if patterns.len() != 3 {
        return Err(syn::Error::new_spanned(&own.sig, "`call` takes (&self, ctx, method, params)"));
    }
    Ok(patterns)
}
