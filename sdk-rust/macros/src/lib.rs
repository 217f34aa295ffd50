//! `#[vitro_sdk::device]` on an `impl Device for T` block: the hooks `T` declares to the host are
//! exactly the hook methods the block defines, so the declaration cannot drift from the code.

use proc_macro::TokenStream;
use quote::{format_ident, quote};
use syn::{parse_macro_input, parse_quote, ImplItem, ItemImpl};

/// Implements `Device` with `async_trait` and derives `Device::hooks` from the methods the block
/// defines: `boot` declares the `boot` hook, `skip_boot` the `skip-boot` hook, and so on (every
/// method but `call`, which answers custom device methods).
#[proc_macro_attribute]
pub fn device(attr: TokenStream, item: TokenStream) -> TokenStream {
    if !attr.is_empty() {
        let span = proc_macro2::TokenStream::from(attr);
        return syn::Error::new_spanned(span, "#[device] takes no arguments").to_compile_error().into();
    }
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
