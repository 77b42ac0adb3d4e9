//! Generated protobuf messages and gRPC stubs: the upstream Flyte IDL (v1.16)
//! and updraft's own propeller API. Server stubs are behind the `server`
//! feature, clients behind `client`, so the browser build never compiles them.

#![allow(clippy::all, clippy::pedantic, missing_docs)]

/// `google.api` annotations referenced by the Flyte service definitions.
pub mod google {
    pub mod api {
        tonic::include_proto!("google.api");
    }
}

/// The Flyte v1 IDL.
pub mod flyteidl {
    pub mod core {
        tonic::include_proto!("flyteidl.core");
    }
    pub mod admin {
        tonic::include_proto!("flyteidl.admin");
    }
    pub mod event {
        tonic::include_proto!("flyteidl.event");
    }
    pub mod service {
        tonic::include_proto!("flyteidl.service");
    }
}

/// Flyte's DataCatalog service (task caching).
pub mod datacatalog {
    tonic::include_proto!("datacatalog");
}

/// updraft's own APIs.
pub mod updraft {
    pub mod admin {
        pub mod v1 {
            tonic::include_proto!("updraft.admin.v1");
        }
    }
    pub mod catalog {
        pub mod v1 {
            tonic::include_proto!("updraft.catalog.v1");
        }
    }
    pub mod propeller {
        pub mod v1 {
            tonic::include_proto!("updraft.propeller.v1");
        }
    }
}
