//! weft-rpc over real loopback sockets: identity headers, the record stream, file transfer
//! with checksums, time-outs, and mutual TLS.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::oneshot;
use tokio_stream::wrappers::ReceiverStream;
use tokio_stream::StreamExt;
use tonic::{Code, Request, Response, Status, Streaming};
use weft_rpc::client::{channel, ClientConfig};
use weft_rpc::pb::replication_client::ReplicationClient;
use weft_rpc::pb::replication_server::{Replication, ReplicationServer};
use weft_rpc::pb::{
    self, Ack, FileChunk, FileReceipt, HelloReply, HelloRequest, PrepareReply, PrepareRequest, RecordBatch,
};
use weft_rpc::server::{self, ServerConfig};
use weft_rpc::{files, ClusterTls, DatabaseId, Identity};

const DB: Identity = Identity {
    database: DatabaseId([7; 16]),
    epoch: 2,
};

/// A replica that answers Hello, acks each batch's newest record and keeps received files.
struct TestReplica {
    dir: std::path::PathBuf,
}

#[tonic::async_trait]
impl Replication for TestReplica {
    async fn hello(&self, request: Request<HelloRequest>) -> Result<Response<HelloReply>, Status> {
        let (_, sender) = DB.check(request.get_ref().header.as_ref())?;
        if sender == "slow" {
            tokio::time::sleep(Duration::from_secs(5)).await;
        }
        Ok(Response::new(HelloReply {
            header: Some(DB.header("replica")),
            last_commit_ts: 41,
            history: request.into_inner().history,
        }))
    }

    async fn prepare(&self, request: Request<PrepareRequest>) -> Result<Response<PrepareReply>, Status> {
        DB.check(request.get_ref().header.as_ref())?;
        Ok(Response::new(PrepareReply {
            header: Some(DB.header("replica")),
        }))
    }

    type RecordsStream = ReceiverStream<Result<Ack, Status>>;

    async fn records(&self, request: Request<Streaming<RecordBatch>>) -> Result<Response<Self::RecordsStream>, Status> {
        let mut batches = request.into_inner();
        let (tx, rx) = tokio::sync::mpsc::channel(8);
        tokio::spawn(async move {
            while let Some(batch) = batches.next().await {
                let ack = batch.and_then(|batch| {
                    DB.check(batch.header.as_ref())?;
                    let durable_ts = batch.records.last().map_or(0, |r| r.commit_ts);
                    Ok(Ack {
                        header: Some(DB.header("replica")),
                        durable_ts,
                        error: String::new(),
                    })
                });
                if tx.send(ack).await.is_err() {
                    break;
                }
            }
        });
        Ok(Response::new(ReceiverStream::new(rx)))
    }

    async fn send_file(&self, request: Request<Streaming<FileChunk>>) -> Result<Response<FileReceipt>, Status> {
        let received = files::receive(request.into_inner(), &self.dir, &DB, 10 << 20).await?;
        Ok(Response::new(received.receipt(&DB, "replica")))
    }
}

/// Serves a test replica on a free loopback port until the returned sender is dropped.
async fn start(dir: &std::path::Path, config: ServerConfig) -> (String, oneshot::Sender<()>) {
    let (incoming, address) = server::bind("127.0.0.1:0").await.unwrap();
    let (stop, stopped) = oneshot::channel::<()>();
    let service = ReplicationServer::new(TestReplica { dir: dir.to_path_buf() });
    let router = server::builder(&config).unwrap().add_service(service);
    tokio::spawn(router.serve_with_incoming_shutdown(incoming, async {
        let _ = stopped.await;
    }));
    (address.to_string(), stop)
}

fn client(address: &str, config: &ClientConfig) -> ReplicationClient<tonic::transport::Channel> {
    ReplicationClient::new(channel(address, config).unwrap())
}

fn hello(sender: &str, identity: Identity) -> HelloRequest {
    HelloRequest {
        header: Some(identity.header(sender)),
        history: vec![pb::EpochMark {
            epoch: 2,
            last_commit_ts: 40,
        }],
    }
}

#[tokio::test]
async fn unary_calls_carry_the_identity_and_other_databases_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let (address, _stop) = start(dir.path(), ServerConfig::default()).await;
    let mut main = client(&address, &ClientConfig::default());

    let reply = main.hello(hello("main", DB)).await.unwrap().into_inner();
    assert_eq!(reply.last_commit_ts, 41);
    assert_eq!(Identity::read(reply.header.as_ref()).unwrap(), (DB, "replica"));
    assert_eq!(reply.history[0].last_commit_ts, 40);

    let stranger = Identity {
        database: DatabaseId([9; 16]),
        epoch: 2,
    };
    let refused = main.hello(hello("main", stranger)).await.unwrap_err();
    assert_eq!(refused.code(), Code::FailedPrecondition);
}

#[tokio::test]
async fn the_record_stream_acks_every_batch_in_order() {
    let dir = tempfile::tempdir().unwrap();
    let (address, _stop) = start(dir.path(), ServerConfig::default()).await;
    let mut main = client(&address, &ClientConfig::default());

    let batches = (1..=3u64).map(|n| RecordBatch {
        header: Some(DB.header("main")),
        records: (0..n)
            .map(|i| pb::Record {
                commit_ts: n * 10 + i,
                prev_commit_ts: 0,
                payload: vec![i as u8; 100],
            })
            .collect(),
    });
    let acks = main.records(tokio_stream::iter(batches)).await.unwrap().into_inner();
    let durable: Vec<u64> = acks.map(|ack| ack.unwrap().durable_ts).collect().await;
    assert_eq!(durable, [10, 21, 32]);
}

#[tokio::test]
async fn files_arrive_whole_checked_and_durable() {
    let (from, to) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let (address, _stop) = start(to.path(), ServerConfig::default()).await;
    let mut main = client(&address, &ClientConfig::default());
    // Three chunks and a bit, with content that differs per position.
    let content: Vec<u8> = (0..files::CHUNK_SIZE * 3 + 123).map(|i| (i * 31 % 251) as u8).collect();
    let source = from.path().join("wal-000001.log");
    std::fs::write(&source, &content).unwrap();

    let outgoing = files::send(source.clone(), "wal-000001.log".into(), DB.header("main"), None);
    let receipt = main.send_file(outgoing.chunks).await.unwrap().into_inner();
    let sent = outgoing.reader.await.unwrap().unwrap();

    assert_eq!((receipt.size, receipt.crc32c), (sent.size, sent.crc32c));
    assert_eq!(receipt.crc32c, crc32c::crc32c(&content));
    assert_eq!(std::fs::read(to.path().join("wal-000001.log")).unwrap(), content);

    // Only the first bytes of a file still being written.
    let outgoing = files::send(source, "head".into(), DB.header("main"), Some(1000));
    let receipt = main.send_file(outgoing.chunks).await.unwrap().into_inner();
    assert_eq!(receipt.size, 1000);
    assert_eq!(std::fs::read(to.path().join("head")).unwrap(), content[..1000]);

    // A file of that name is already there: it is not replaced.
    let again = files::send(
        from.path().join("wal-000001.log"),
        "head".into(),
        DB.header("main"),
        Some(10),
    );
    let refused = main.send_file(again.chunks).await.unwrap_err();
    assert_eq!(refused.code(), Code::AlreadyExists);
    assert_eq!(std::fs::read(to.path().join("head")).unwrap(), content[..1000]);
}

#[tokio::test]
async fn damaged_or_unsafe_files_are_refused_and_leave_nothing_behind() {
    let dir = tempfile::tempdir().unwrap();
    let (address, _stop) = start(dir.path(), ServerConfig::default()).await;
    let mut main = client(&address, &ClientConfig::default());
    let chunk = |name: &str, offset: u64, data: &[u8], last: bool| FileChunk {
        header: Some(DB.header("main")),
        name: name.into(),
        offset,
        data: data.to_vec(),
        crc32c: crc32c::crc32c(data),
        last,
        file_crc32c: crc32c::crc32c(data),
    };

    let mut flipped = chunk("a", 0, b"hello", true);
    flipped.data[0] ^= 1;
    let gap = vec![chunk("b", 0, b"he", false), chunk("", 5, b"llo", true)];
    let cut = vec![chunk("c", 0, b"he", false)];
    let cases: Vec<(Vec<FileChunk>, Code)> = vec![
        (vec![flipped], Code::DataLoss),
        (gap, Code::DataLoss),
        (cut, Code::DataLoss),
        (vec![chunk("../escape", 0, b"x", true)], Code::InvalidArgument),
    ];
    for (chunks, code) in cases {
        let refused = main.send_file(tokio_stream::iter(chunks)).await.unwrap_err();
        assert_eq!(refused.code(), code, "{}", refused.message());
    }
    let left: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
    assert!(left.is_empty(), "{left:?}");
}

#[tokio::test]
async fn calls_time_out_and_a_dead_node_is_unavailable() {
    let dir = tempfile::tempdir().unwrap();
    let (address, _stop) = start(dir.path(), ServerConfig::default()).await;
    let quick = ClientConfig {
        request_timeout: Duration::from_millis(200),
        ..ClientConfig::default()
    };
    let started = std::time::Instant::now();
    let slow = client(&address, &quick).hello(hello("slow", DB)).await.unwrap_err();
    assert!(
        matches!(slow.code(), Code::Cancelled | Code::DeadlineExceeded),
        "{slow:?}"
    );
    assert!(started.elapsed() < Duration::from_secs(4));

    // A port nobody listens on: bind one, note it, close it.
    let free = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let dead = client(&free.to_string(), &quick)
        .hello(hello("main", DB))
        .await
        .unwrap_err();
    assert_eq!(dead.code(), Code::Unavailable, "{dead:?}");
}

/// A CA and a node certificate it signed for 127.0.0.1, as PEM.
fn cluster_pki() -> (String, String, String) {
    let mut ca_params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    let ca_key = rcgen::KeyPair::generate().unwrap();
    let ca = ca_params.self_signed(&ca_key).unwrap();
    let node_params = rcgen::CertificateParams::new(vec!["127.0.0.1".to_string(), "localhost".to_string()]).unwrap();
    let node_key = rcgen::KeyPair::generate().unwrap();
    let node = node_params.signed_by(&node_key, &ca, &ca_key).unwrap();
    (node.pem(), node_key.serialize_pem(), ca.pem())
}

fn tls((cert, key, ca): &(String, String, String)) -> Arc<ClusterTls> {
    Arc::new(ClusterTls::from_pem(cert.clone().into(), key.clone().into(), ca.clone().into()).unwrap())
}

#[tokio::test]
async fn mutual_tls_admits_only_nodes_with_the_cluster_certificate() {
    let dir = tempfile::tempdir().unwrap();
    let cluster = cluster_pki();
    let server_config = ServerConfig {
        tls: Some(tls(&cluster)),
    };
    let (address, _stop) = start(dir.path(), server_config).await;
    let member = ClientConfig {
        tls: Some(tls(&cluster)),
        ..ClientConfig::default()
    };
    let reply = client(&address, &member).hello(hello("main", DB)).await.unwrap();
    assert_eq!(reply.into_inner().last_commit_ts, 41);

    let plain = client(&address, &ClientConfig::default())
        .hello(hello("main", DB))
        .await;
    assert!(plain.is_err(), "a plain-text client was served");
    let stranger = ClientConfig {
        tls: Some(tls(&cluster_pki())),
        ..ClientConfig::default()
    };
    let foreign = client(&address, &stranger).hello(hello("main", DB)).await;
    assert!(foreign.is_err(), "a client of another CA was served");
}

#[test]
fn cluster_tls_wants_pem_and_hides_the_key() {
    let not_pem = ClusterTls::from_pem(b"x".to_vec(), b"y".to_vec(), b"z".to_vec()).unwrap_err();
    assert!(not_pem.to_string().contains("not PEM"), "{not_pem}");
    let cluster = cluster_pki();
    assert!(!format!("{:?}", tls(&cluster)).contains("PRIVATE"));
}
