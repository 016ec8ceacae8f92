//! `wire_enum!`: an enum whose values travel as fixed snake_case strings. It writes the
//! string once per variant and derives the rest (serde, the OpenAPI schema, parsing, `ALL`),
//! so the text a client sees and the text code compares with cannot drift apart.

/// A closed set of wire strings; `parse` refuses anything else.
macro_rules! wire_enum {
    (
        $(#[$meta:meta])*
        pub enum $name:ident { $( $(#[$vmeta:meta])* $variant:ident = $text:literal ),* $(,)? }
    ) => {
        $(#[$meta])*
        #[derive(
            Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord,
            serde::Serialize, serde::Deserialize, utoipa::ToSchema,
        )]
        #[serde(rename_all = "snake_case")]
        pub enum $name {
            $( $(#[$vmeta])* $variant ),*
        }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant),*];

            /// The value as it travels.
            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text),*
                }
            }

            /// The value this text names, if it names one.
            pub fn parse(text: &str) -> Option<$name> {
                $name::ALL.iter().copied().find(|v| v.as_str() == text)
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl std::str::FromStr for $name {
            type Err = $crate::codes::NotOneOf;
            fn from_str(text: &str) -> Result<$name, $crate::codes::NotOneOf> {
                $name::parse(text).ok_or($crate::codes::NotOneOf)
            }
        }
    };
}
pub(crate) use wire_enum;

/// A text that is none of an enum's values (the text itself is not kept: it may be anything).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NotOneOf;

impl std::fmt::Display for NotOneOf {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("not one of the accepted values")
    }
}

impl std::error::Error for NotOneOf {}
