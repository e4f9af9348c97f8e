//! Compiles the `.proto` files with protox (no `protoc` needed) into tonic services.

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let protos = ["proto/weft/rpc/v1/replication.proto", "proto/weft/rpc/v1/raft.proto"];
    for proto in protos {
        println!("cargo:rerun-if-changed={proto}");
    }
    let descriptors = protox::compile(protos, ["proto"])?;
    tonic_prost_build::compile_fds(descriptors)?;
    Ok(())
}
