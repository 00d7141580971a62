use super::*;

fn addr(text: &str) -> SocketAddr {
    text.parse()
        .unwrap_or_else(|_| SocketAddr::from(([0, 0, 0, 0], 0)))
}

fn meta(packet: u64) -> SegmentMeta {
    SegmentMeta {
        packet,
        timestamp_ns: 1_000,
    }
}

fn tcp_unit(payload: &[u8]) -> Unit<'_> {
    Unit::Tcp(Segment {
        src: addr("10.0.0.1:40000"),
        dst: addr("10.0.0.2:443"),
        seq: 7,
        ack: 9,
        flags: Segment::ACK,
        payload,
    })
}

#[test]
fn partition_ignores_direction() {
    let (a, b) = (addr("10.0.0.1:40000"), addr("10.0.0.2:443"));
    assert_eq!(partition(a, b, 4), partition(b, a, 4));
}

#[test]
fn partition_stays_in_range() {
    let server = addr("[2001:db8::1]:443");
    let highest = (1000..3000)
        .map(|port| partition(SocketAddr::new(server.ip(), port), server, 3))
        .max();
    assert_eq!(highest, Some(2));
}

#[test]
fn partition_spreads_ports() {
    let server = addr("192.0.2.1:443");
    let first = (1000..3000)
        .filter(|port| partition(addr(&format!("198.51.100.7:{port}")), server, 2) == 0)
        .count();
    assert!((800..1200).contains(&first), "{first} of 2000 on worker 0");
}

#[test]
fn partition_one_worker_is_zero() {
    assert_eq!(partition(addr("10.0.0.1:1"), addr("10.0.0.2:2"), 1), 0);
}

#[test]
fn tick_key_belongs_elsewhere() {
    for workers in 2..=16 {
        for index in 0..workers {
            let (a, b) = tick_key(index, workers);
            assert_ne!(partition(a, b, workers), index, "{index} of {workers}");
        }
    }
}

#[test]
fn batch_keeps_payload_bytes() {
    let mut batch = Batch::default();
    batch.push(Kind::Tcp, meta(1), &tcp_unit(b"first"), None);
    batch.push(Kind::Tcp, meta(2), &tcp_unit(b"second"), None);
    let second = batch.records.get(1).map(|record| batch.payload(record));
    assert_eq!(second, Some(&b"second"[..]));
}

#[test]
fn batch_tick_has_no_payload() {
    let mut batch = Batch::default();
    batch.push(Kind::TcpTick, meta(1), &tcp_unit(b"not copied"), None);
    assert!(batch.payload.is_empty());
}

#[test]
fn batch_tick_drops_process() {
    let mut batch = Batch::default();
    batch.push(Kind::TcpTick, meta(1), &tcp_unit(b""), Some(3));
    batch.push(Kind::Tcp, meta(2), &tcp_unit(b""), Some(4));
    let processes: Vec<Option<u32>> = batch.records.iter().map(|r| r.process).collect();
    assert_eq!(processes, [None, Some(4)]);
}

#[test]
fn batch_full_at_record_limit() {
    let mut batch = Batch::default();
    for packet in 0..BATCH_RECORDS as u64 {
        batch.push(Kind::UdpTick, meta(packet), &tcp_unit(b""), None);
    }
    assert!(batch.is_full());
}

#[test]
fn batch_payload_out_of_range_empty() {
    let batch = Batch::default();
    let record = Record {
        kind: Kind::Tcp,
        meta: meta(1),
        src: addr("10.0.0.1:1"),
        dst: addr("10.0.0.2:2"),
        seq: 0,
        ack: 0,
        flags: 0,
        process: None,
        start: 10,
        len: usize::MAX,
    };
    assert!(batch.payload(&record).is_empty());
}

#[test]
fn numbering_maps_in_open_order() {
    let mut first = Numbering::starting_at(0);
    let mut second = Numbering::starting_at(0);
    let mut next = 0;
    first.open(1, &mut next);
    second.open(2, &mut next);
    first.open(1, &mut next);
    assert_eq!(first.get(1), Some(3));
}

#[test]
fn numbering_forgets_ended_flows() {
    let mut numbering = Numbering::starting_at(1);
    let mut next = 1;
    numbering.open(2, &mut next);
    numbering.close(&[1]);
    assert_eq!(numbering.get(1), None);
}

#[test]
fn router_ticks_only_when_clock_moves() {
    let (tx, _rx) = sync_channel(1);
    let (_pool_tx, pool_rx) = sync_channel(1);
    let (tx2, _rx2) = sync_channel(1);
    let mut router = Router::new(vec![tx, tx2], pool_rx);
    let unit = tcp_unit(b"x");
    router.route(meta(1), &unit, None);
    router.route(meta(2), &unit, None);
    let records: usize = router.batches.iter().map(|b| b.records.len()).sum();
    assert_eq!(records, 3);
}

#[test]
fn router_ticks_every_udp_datagram() {
    let (tx, _rx) = sync_channel(1);
    let (_pool_tx, pool_rx) = sync_channel(1);
    let (tx2, _rx2) = sync_channel(1);
    let mut router = Router::new(vec![tx, tx2], pool_rx);
    let unit = Unit::Udp {
        src: addr("10.0.0.1:5000"),
        dst: addr("10.0.0.2:443"),
        payload: b"q",
    };
    router.route(meta(1), &unit, None);
    router.route(meta(2), &unit, None);
    let records: usize = router.batches.iter().map(|b| b.records.len()).sum();
    assert_eq!(records, 4);
}
