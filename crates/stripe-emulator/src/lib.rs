//! A stateful, faithful stand-in for api.stripe.com.
