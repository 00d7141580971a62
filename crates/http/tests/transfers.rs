//! Transfers parsed from hand-built request and response streams.

use std::io::Write;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use flate2::Compression;
use flate2::write::{DeflateEncoder, GzEncoder, ZlibEncoder};
use md5::Md5;
use sha2::{Digest as _, Sha256};
use wiretrust_http::{
    BodyEnd, BodyHashing, ConnectionEnd, DecodeFailure, Direction, Framing, Hashes, HttpStream,
    Limits, Outcome, Transfer, Unchecked, WarningKind,
};

const GET: &[u8] = b"GET /file HTTP/1.1\r\nHost: example.test:8080\r\n\r\n";

/// Feeds `request`, then `response` in pieces of `step` octets, then ends
/// the connection with `end`.
fn exchange(request: &[u8], response: &[u8], step: usize, end: ConnectionEnd) -> Vec<Transfer> {
    let mut stream = HttpStream::new(Limits::default());
    stream.data(Direction::Request, request, 1, 10);
    for (index, part) in response.chunks(step.max(1)).enumerate() {
        stream.data(Direction::Response, part, 2 + index as u64, 20);
    }
    stream.end(end, 99);
    let mut out = Vec::new();
    stream.take_transfers(&mut out);
    out
}

fn one(request: &[u8], response: &[u8], end: ConnectionEnd) -> Transfer {
    let mut transfers = exchange(request, response, 7, end);
    assert_eq!(transfers.len(), 1, "transfers: {transfers:#?}");
    transfers.remove(0)
}

fn response(fields: &str, body: &[u8]) -> Vec<u8> {
    let mut out = format!("HTTP/1.1 200 OK\r\n{fields}\r\n").into_bytes();
    out.extend_from_slice(body);
    out
}

fn b64_sha256(data: &[u8]) -> String {
    STANDARD.encode(Sha256::digest(data))
}

fn b64_md5(data: &[u8]) -> String {
    STANDARD.encode(Md5::digest(data))
}

fn outcomes(transfer: &Transfer) -> Vec<Outcome> {
    transfer.digests.iter().map(|d| d.outcome).collect()
}

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut encoder = GzEncoder::new(Vec::new(), Compression::default());
    encoder.write_all(data).ok();
    encoder.finish().unwrap_or_default()
}

/// Encodes `data` as a brotli stream of one uncompressed meta-block (RFC 7932 section 9.2),
/// for data of 1 to 65536 octets.
fn brotli_stored(data: &[u8]) -> Vec<u8> {
    let bits: u32 = (((data.len() - 1) as u32) << 4) | (1 << 20);
    let mut out = bits.to_le_bytes()[..3].to_vec();
    out.extend_from_slice(data);
    out.push(0x03);
    out
}

#[test]
fn content_length_body_hashed() {
    let body = b"hello world";
    let fields = "Content-Length: 11\r\nContent-Type: text/plain\r\n";
    let transfer = one(GET, &response(fields, body), ConnectionEnd::Closed);
    assert_eq!(transfer.body.end, BodyEnd::Complete);
    assert_eq!(transfer.body.received, 11);
    let sha = transfer.body.content.as_ref().map(|h| h.sha256.to_vec());
    assert_eq!(sha, Some(Sha256::digest(body).to_vec()));
    assert_eq!(
        transfer.url().as_deref(),
        Some("http://example.test:8080/file")
    );
    assert_eq!(transfer.host(), Some("example.test"));
    assert_eq!(transfer.length_problem(), None);
}

#[test]
fn every_digest_kind_verified() {
    let body = b"integrity matters";
    let sha = b64_sha256(body);
    let fields = format!(
        "Content-Length: {}\r\nContent-MD5: {}\r\nDigest: SHA-256={sha}\r\n\
         Content-Digest: sha-256=:{sha}:\r\nRepr-Digest: sha-256=:{sha}:\r\n",
        body.len(),
        b64_md5(body),
    );
    let transfer = one(GET, &response(&fields, body), ConnectionEnd::Closed);
    assert_eq!(outcomes(&transfer), vec![Outcome::Verified; 4]);
}

#[test]
fn sha1_and_sha512_digests_verified() {
    let body = b"more algorithms";
    let sha1 = STANDARD.encode(sha1::Sha1::digest(body));
    let sha512 = STANDARD.encode(sha2::Sha512::digest(body));
    let fields = format!(
        "Content-Length: {}\r\nDigest: sha={sha1}, sha-512={sha512}\r\n",
        body.len()
    );
    let transfer = one(GET, &response(&fields, body), ConnectionEnd::Closed);
    assert_eq!(outcomes(&transfer), vec![Outcome::Verified; 2]);
}

#[test]
fn wrong_content_md5_mismatch() {
    let body = b"integrity matters";
    let fields = format!(
        "Content-Length: 17\r\nContent-MD5: {}\r\n",
        b64_md5(b"other")
    );
    let transfer = one(GET, &response(&fields, body), ConnectionEnd::Closed);
    assert_eq!(outcomes(&transfer), vec![Outcome::Mismatch]);
    assert_eq!(transfer.digests[0].computed, Some(b64_md5(body)));
}

#[test]
fn invalid_base64_is_warning_not_mismatch() {
    let fields = "Content-Length: 2\r\nContent-Digest: sha-256=:not*base64:\r\n";
    let transfer = one(GET, &response(fields, b"ok"), ConnectionEnd::Closed);
    let unchecked = Outcome::NotCheckable(Unchecked::InvalidValue);
    assert_eq!(outcomes(&transfer), vec![unchecked]);
    let kinds: Vec<_> = transfer.warnings.iter().map(|w| w.kind).collect();
    assert_eq!(kinds, vec![WarningKind::InvalidDigestValue]);
}

#[test]
fn unknown_algorithm_not_checkable() {
    let fields = "Content-Length: 2\r\nDigest: UNIXsum=30637\r\n";
    let transfer = one(GET, &response(fields, b"ok"), ConnectionEnd::Closed);
    let unchecked = Outcome::NotCheckable(Unchecked::UnknownAlgorithm);
    assert_eq!(outcomes(&transfer), vec![unchecked]);
    let kinds: Vec<_> = transfer.warnings.iter().map(|w| w.kind).collect();
    assert_eq!(kinds, vec![WarningKind::UnknownDigestAlgorithm]);
}

#[test]
fn chunked_with_trailers() {
    let body = b"5\r\nhello\r\n6;x=y\r\n world\r\n0\r\nX-Check: 1\r\n\r\n";
    let sha = b64_sha256(b"hello world");
    let fields = format!("Transfer-Encoding: chunked\r\nContent-Digest: sha-256=:{sha}:\r\n");
    let transfer = one(GET, &response(&fields, body), ConnectionEnd::CaptureEnded);
    assert_eq!(transfer.body.framing, Framing::Chunked);
    assert_eq!(transfer.body.end, BodyEnd::Complete);
    assert_eq!(transfer.body.received, 11);
    assert_eq!(transfer.body.chunks, 3);
    assert_eq!(outcomes(&transfer), vec![Outcome::Verified]);
}

/// Parses a chunked response of `hello world` whose trailer section is `trailer`.
fn chunked_with_trailer(fields: &str, trailer: &str) -> Transfer {
    let body = format!("5\r\nhello\r\n6\r\n world\r\n0\r\n{trailer}\r\n");
    let fields = format!("Transfer-Encoding: chunked\r\n{fields}");
    one(
        GET,
        &response(&fields, body.as_bytes()),
        ConnectionEnd::Closed,
    )
}

#[test]
fn trailer_content_digest_verified() {
    let sha = b64_sha256(b"hello world");
    let trailer = format!("Content-Digest: sha-256=:{sha}:\r\n");
    let transfer = chunked_with_trailer("", &trailer);
    assert_eq!(outcomes(&transfer), vec![Outcome::Verified]);
    assert!(transfer.warnings.is_empty(), "{:?}", transfer.warnings);
}

#[test]
fn trailer_content_digest_mismatch() {
    let sha = b64_sha256(b"other octets");
    let trailer = format!("X-Other: 1\r\ncontent-digest: sha-256=:{sha}:\r\n");
    let transfer = chunked_with_trailer("Trailer: Content-Digest\r\n", &trailer);
    assert_eq!(outcomes(&transfer), vec![Outcome::Mismatch]);
    let check = &transfer.digests[0];
    assert_eq!(check.computed, Some(b64_sha256(b"hello world")));
}

#[test]
fn trailer_repr_digest_sha512_announced() {
    let sha512 = STANDARD.encode(sha2::Sha512::digest(b"hello world"));
    let trailer = format!("Repr-Digest: sha-512=:{sha512}:\r\n");
    let transfer = chunked_with_trailer("Trailer: Repr-Digest\r\n", &trailer);
    assert_eq!(outcomes(&transfer), vec![Outcome::Verified]);
}

#[test]
fn trailer_digest_invalid_value_warns() {
    let transfer = chunked_with_trailer("", "Content-Digest: sha-256=:not*base64:\r\n");
    let unchecked = Outcome::NotCheckable(Unchecked::InvalidValue);
    assert_eq!(outcomes(&transfer), vec![unchecked]);
    let kinds: Vec<_> = transfer.warnings.iter().map(|w| w.kind).collect();
    assert_eq!(kinds, vec![WarningKind::InvalidDigestValue]);
    assert!(
        transfer.warnings[0]
            .detail
            .starts_with("trailer Content-Digest")
    );
}

#[test]
fn header_and_trailer_digests_both_checked() {
    let sha = b64_sha256(b"hello world");
    let fields = format!("Content-Digest: sha-256=:{sha}:\r\n");
    let wrong = b64_sha256(b"other octets");
    let trailer = format!("Content-Digest: sha-256=:{wrong}:\r\n");
    let transfer = chunked_with_trailer(&fields, &trailer);
    assert_eq!(
        outcomes(&transfer),
        vec![Outcome::Verified, Outcome::Mismatch]
    );
}

#[test]
fn malformed_chunk_size_warns_and_continues() {
    let mut stream = response("Transfer-Encoding: chunked\r\n", b"5\r\nhello\r\nzz\r\n");
    stream.extend_from_slice(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
    let request = [GET, GET].concat();
    let transfers = exchange(&request, &stream, 1000, ConnectionEnd::Closed);
    assert_eq!(transfers.len(), 2);
    assert_eq!(transfers[0].body.end, BodyEnd::ChunkFramingBroken);
    let warning = transfers[0].warnings.first();
    assert_eq!(
        warning.map(|w| w.kind),
        Some(WarningKind::MalformedChunkSize)
    );
    let expected_offset = stream.iter().position(|b| *b == b'z').map(|at| at as u64);
    assert_eq!(warning.map(|w| w.offset), expected_offset);
    assert_eq!(warning.map(|w| w.packet), Some(2));
    assert!(transfers[0].length_problem().is_some());
    assert_eq!(transfers[1].body.end, BodyEnd::Complete);
    assert_eq!(transfers[1].body.received, 2);
}

#[test]
fn close_delimited_body_complete_at_fin() {
    let transfer = one(GET, &response("", b"until close"), ConnectionEnd::Closed);
    assert_eq!(transfer.body.framing, Framing::Close);
    assert_eq!(transfer.body.end, BodyEnd::Complete);
    assert_eq!(transfer.body.received, 11);
}

#[test]
fn close_delimited_body_incomplete_at_capture_end() {
    let transfer = one(
        GET,
        &response("", b"until close"),
        ConnectionEnd::CaptureEnded,
    );
    assert_eq!(transfer.body.end, BodyEnd::CaptureEnded);
    assert_eq!(transfer.length_problem(), None);
}

#[test]
fn short_body_at_close_is_length_problem() {
    let fields = "Content-Length: 100\r\nContent-MD5: 1B2M2Y8AsgTpgAmY7PhCfg==\r\n";
    let transfer = one(GET, &response(fields, b"short"), ConnectionEnd::Closed);
    assert_eq!(transfer.body.end, BodyEnd::ShortAtClose);
    assert!(transfer.length_problem().is_some());
    let unchecked = Outcome::NotCheckable(Unchecked::BodyIncomplete);
    assert_eq!(outcomes(&transfer), vec![unchecked]);
}

#[test]
fn short_body_at_reset_is_length_problem() {
    let transfer = one(
        GET,
        &response("Content-Length: 100\r\n", b"short"),
        ConnectionEnd::Reset,
    );
    assert_eq!(transfer.body.end, BodyEnd::ShortAtReset);
    assert!(transfer.length_problem().is_some());
}

#[test]
fn short_body_at_capture_end_is_incomplete() {
    let transfer = one(
        GET,
        &response("Content-Length: 100\r\n", b"short"),
        ConnectionEnd::CaptureEnded,
    );
    assert_eq!(transfer.body.end, BodyEnd::CaptureEnded);
    assert_eq!(transfer.length_problem(), None);
}

#[test]
fn longer_body_counts_excess() {
    let stream = response("Content-Length: 2\r\n", b"okINJECTED");
    let transfer = one(GET, &stream, ConnectionEnd::Closed);
    assert_eq!(transfer.body.received, 2);
    assert_eq!(transfer.body.excess, 8);
    assert!(transfer.length_problem().is_some());
}

#[test]
fn gap_in_body_makes_it_incomplete() {
    let mut stream = HttpStream::new(Limits::default());
    let fields = format!(
        "Content-Length: 10\r\nContent-MD5: {}\r\n",
        b64_md5(b"0123456789")
    );
    stream.data(Direction::Request, GET, 1, 0);
    stream.data(Direction::Response, &response(&fields, b"012"), 2, 0);
    stream.gap(Direction::Response, 4, 3);
    stream.data(Direction::Response, b"789", 4, 0);
    stream.data(
        Direction::Response,
        b"HTTP/1.1 204 No Content\r\n\r\n",
        5,
        0,
    );
    stream.end(ConnectionEnd::Closed, 6);
    let mut transfers = Vec::new();
    stream.take_transfers(&mut transfers);
    assert_eq!(transfers.len(), 2);
    assert_eq!(transfers[1].request, None);
    assert_eq!(transfers[1].response.as_ref().map(|r| r.status), Some(204));
    let transfer = &transfers[0];
    assert_eq!(transfer.body.end, BodyEnd::CaptureGap);
    assert_eq!(transfer.body.missing, 4);
    assert_eq!(transfer.body.content, None);
    assert_eq!(transfer.length_problem(), None);
    let unchecked = Outcome::NotCheckable(Unchecked::BodyIncomplete);
    assert_eq!(outcomes(transfer), vec![unchecked]);
}

#[test]
fn header_over_limit_skips_to_next_response() {
    let mut stream = HttpStream::new(Limits::default());
    stream.data(Direction::Request, &[GET, GET].concat(), 1, 0);
    let mut big = b"HTTP/1.1 200 OK\r\nX-Big: ".to_vec();
    big.extend(std::iter::repeat_n(b'a', 70 * 1024));
    big.extend_from_slice(b"\r\n\r\n");
    stream.data(Direction::Response, &big, 2, 0);
    stream.data(
        Direction::Response,
        b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nx",
        3,
        0,
    );
    stream.end(ConnectionEnd::Closed, 4);
    let (mut transfers, mut warnings) = (Vec::new(), Vec::new());
    stream.take_transfers(&mut transfers);
    stream.take_warnings(&mut warnings);
    let kinds: Vec<_> = warnings.iter().map(|w| w.kind).collect();
    assert!(
        kinds.contains(&WarningKind::HeadTooLarge),
        "warnings: {kinds:?}"
    );
    let complete: Vec<_> = transfers.iter().filter(|t| t.response.is_some()).collect();
    assert_eq!(complete.len(), 1);
    assert_eq!(complete[0].body.received, 1);
}

#[test]
fn keep_alive_pipelined_in_order() {
    let requests = b"GET /a HTTP/1.1\r\nHost: h\r\n\r\nHEAD /b HTTP/1.1\r\nHost: h\r\n\r\n\
                     GET /c HTTP/1.1\r\nHost: h\r\n\r\n";
    let responses = b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\na\
                      HTTP/1.1 200 OK\r\nContent-Length: 500\r\n\r\n\
                      HTTP/1.1 304 Not Modified\r\nETag: \"x\"\r\n\r\n";
    let transfers = exchange(requests, responses, 3, ConnectionEnd::Closed);
    let targets: Vec<_> = transfers
        .iter()
        .filter_map(|t| t.request.as_ref().map(|r| r.target.as_str()))
        .collect();
    assert_eq!(targets, vec!["/a", "/b", "/c"]);
    let ends: Vec<_> = transfers.iter().map(|t| t.body.end).collect();
    assert_eq!(
        ends,
        vec![BodyEnd::Complete, BodyEnd::NoBody, BodyEnd::NoBody]
    );
    assert!(transfers.iter().all(|t| t.length_problem().is_none()));
}

#[test]
fn interim_response_skipped() {
    let stream = b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n";
    let transfer = one(GET, stream, ConnectionEnd::Closed);
    assert_eq!(transfer.response.map(|r| r.status), Some(204));
}

#[test]
fn connect_tunnel_not_parsed() {
    let request =
        b"CONNECT example.test:443 HTTP/1.1\r\nHost: example.test:443\r\n\r\n\x16\x03\x01";
    let stream = b"HTTP/1.1 200 Connection established\r\n\r\n\x16\x03\x03garbage";
    let mut parsed = HttpStream::new(Limits::default());
    parsed.data(Direction::Request, request, 1, 0);
    parsed.data(Direction::Response, stream, 2, 0);
    assert!(!parsed.wants_data());
    parsed.end(ConnectionEnd::Closed, 3);
    let mut transfers = Vec::new();
    parsed.take_transfers(&mut transfers);
    assert_eq!(transfers.len(), 1);
    assert_eq!(transfers[0].url().as_deref(), Some("example.test:443"));
    assert_eq!(transfers[0].body.excess, 0);
}

#[test]
fn request_without_response() {
    let mut stream = HttpStream::new(Limits::default());
    stream.data(Direction::Request, GET, 1, 0);
    stream.end(ConnectionEnd::Reset, 2);
    let mut transfers = Vec::new();
    stream.take_transfers(&mut transfers);
    assert_eq!(transfers.len(), 1);
    assert_eq!(transfers[0].body.end, BodyEnd::NoResponse);
}

#[test]
fn request_body_skipped() {
    let request = b"POST /up HTTP/1.1\r\nHost: h\r\nContent-Length: 4\r\n\r\nbodyGET /n HTTP/1.1\r\nHost: h\r\n\r\n";
    let responses = b"HTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n";
    let transfers = exchange(request, responses, 5, ConnectionEnd::Closed);
    let methods: Vec<_> = transfers
        .iter()
        .filter_map(|t| t.request.as_ref().map(|r| r.method.as_str()))
        .collect();
    assert_eq!(methods, vec!["POST", "GET"]);
}

fn coded_transfer(coding: &str, encoded: &[u8], plain: &[u8]) -> Transfer {
    let fields = format!(
        "Content-Encoding: {coding}\r\nContent-Length: {}\r\nContent-Digest: sha-256=:{}:\r\n\
         Repr-Digest: sha-256=:{}:\r\n",
        encoded.len(),
        b64_sha256(encoded),
        b64_sha256(plain)
    );
    one(GET, &response(&fields, encoded), ConnectionEnd::Closed)
}

#[test]
fn gzip_representation_digest() {
    let plain = b"the representation, before content coding".repeat(20);
    let transfer = coded_transfer("gzip", &gzip(&plain), &plain);
    assert_eq!(
        outcomes(&transfer),
        vec![Outcome::Verified, Outcome::Verified]
    );
    let decoded = transfer.body.representation.as_ref().map(|h| h.length);
    assert_eq!(decoded, Some(plain.len() as u64));
}

#[test]
fn x_gzip_decoded() {
    let plain = b"x-gzip is gzip";
    let transfer = coded_transfer("x-gzip", &gzip(plain), plain);
    assert_eq!(
        outcomes(&transfer),
        vec![Outcome::Verified, Outcome::Verified]
    );
}

#[test]
fn deflate_zlib_and_raw_decoded() {
    let plain = b"deflate comes in two shapes".repeat(5);
    let mut zlib = ZlibEncoder::new(Vec::new(), Compression::default());
    zlib.write_all(&plain).ok();
    let zlib = zlib.finish().unwrap_or_default();
    let transfer = coded_transfer("deflate", &zlib, &plain);
    assert_eq!(
        outcomes(&transfer),
        vec![Outcome::Verified, Outcome::Verified]
    );
    let mut raw = DeflateEncoder::new(Vec::new(), Compression::default());
    raw.write_all(&plain).ok();
    let raw = raw.finish().unwrap_or_default();
    let transfer = coded_transfer("deflate", &raw, &plain);
    assert_eq!(
        outcomes(&transfer),
        vec![Outcome::Verified, Outcome::Verified]
    );
}

#[test]
fn brotli_decoded() {
    let plain = b"brotli stored block";
    let transfer = coded_transfer("br", &brotli_stored(plain), plain);
    assert_eq!(
        outcomes(&transfer),
        vec![Outcome::Verified, Outcome::Verified]
    );
}

#[test]
fn invalid_gzip_not_decoded() {
    let transfer = coded_transfer("gzip", b"not gzip at all", b"x");
    let not_decoded = Outcome::NotCheckable(Unchecked::NotDecoded);
    assert_eq!(outcomes(&transfer), vec![Outcome::Verified, not_decoded]);
    let kinds: Vec<_> = transfer.warnings.iter().map(|w| w.kind).collect();
    assert_eq!(kinds, vec![WarningKind::ContentDecodeFailed]);
}

#[test]
fn repr_digest_mismatch_after_gzip() {
    let plain = b"what the server meant";
    let encoded = gzip(plain);
    let transfer = coded_transfer("gzip", &encoded, b"what an attacker sent");
    assert_eq!(
        outcomes(&transfer),
        vec![Outcome::Verified, Outcome::Mismatch]
    );
}

#[test]
fn s3_etag_only_with_amazon_fields() {
    let body = b"object";
    let etag = hex::encode(Md5::digest(body));
    let plain = format!("Content-Length: 6\r\nETag: \"{etag}\"\r\n");
    let transfer = one(GET, &response(&plain, body), ConnectionEnd::Closed);
    assert!(transfer.digests.is_empty());
    let amazon = format!("{plain}x-amz-request-id: 1\r\n");
    let transfer = one(GET, &response(&amazon, body), ConnectionEnd::Closed);
    assert_eq!(outcomes(&transfer), vec![Outcome::Verified]);
    let multipart = "Content-Length: 6\r\nServer: AmazonS3\r\nETag: \"0123-2\"\r\n";
    let transfer = one(GET, &response(multipart, body), ConnectionEnd::Closed);
    assert!(transfer.digests.is_empty());
}

#[test]
fn head_response_digest_not_checkable() {
    let request = b"HEAD / HTTP/1.1\r\nHost: h\r\n\r\n";
    let stream = format!(
        "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-MD5: {}\r\n\r\n",
        b64_md5(b"hello")
    );
    let transfer = one(request, stream.as_bytes(), ConnectionEnd::Closed);
    assert_eq!(transfer.body.end, BodyEnd::NoBody);
    assert_eq!(
        outcomes(&transfer),
        vec![Outcome::NotCheckable(Unchecked::NoBody)]
    );
}

#[test]
fn garbage_input_never_panics() {
    let mut seed: u32 = 0x1234_5678;
    for round in 0..200 {
        let mut stream = HttpStream::new(Limits::default());
        let mut data =
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Encoding: gzip\r\n\r\n"
                .to_vec();
        for _ in 0..(round * 7 % 300) {
            seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12_345);
            data.push((seed >> 16) as u8);
        }
        stream.data(Direction::Request, &data[..data.len() / 3], 1, 0);
        for part in data.chunks(1 + round % 13) {
            stream.data(Direction::Response, part, 2, 0);
        }
        stream.gap(Direction::Response, u64::MAX, 3);
        stream.data(Direction::Response, &data, 4, 0);
        stream.end(ConnectionEnd::Reset, 5);
        let mut out = Vec::new();
        stream.take_transfers(&mut out);
    }
}

#[test]
fn split_points_do_not_change_result() {
    let requests = [GET, GET, GET].concat();
    let mut responses = response("Transfer-Encoding: chunked\r\n", b"3\r\nabc\r\n0\r\n\r\n");
    responses.extend(gzip_response());
    responses.extend(response("Content-Length: 4\r\n", b"last"));
    let whole = exchange(
        &requests,
        &responses,
        responses.len(),
        ConnectionEnd::Closed,
    );
    assert_eq!(whole.len(), 3);
    let expected: Vec<_> = whole.iter().map(shape).collect();
    for step in [1, 2, 5, 13, 64] {
        let split = exchange(&requests, &responses, step, ConnectionEnd::Closed);
        let shapes: Vec<_> = split.iter().map(shape).collect();
        assert_eq!(shapes, expected, "pieces of {step} octets");
    }
}

/// The parts of a transfer that do not depend on packet numbers.
type Shape = (
    Option<u16>,
    BodyEnd,
    u64,
    Option<Hashes>,
    Option<Hashes>,
    Vec<Outcome>,
);

fn shape(transfer: &Transfer) -> Shape {
    (
        transfer.response.as_ref().map(|r| r.status),
        transfer.body.end,
        transfer.body.received,
        transfer.body.content.clone(),
        transfer.body.representation.clone(),
        outcomes(transfer),
    )
}

fn gzip_response() -> Vec<u8> {
    let encoded = gzip(b"split me anywhere");
    let fields = format!(
        "Content-Encoding: gzip\r\nContent-Length: {}\r\nRepr-Digest: sha-256=:{}:\r\n",
        encoded.len(),
        b64_sha256(b"split me anywhere")
    );
    response(&fields, &encoded)
}

#[test]
fn decoded_size_limit_stops_decoding() {
    let plain = [b'a'; 4096];
    let encoded = gzip(&plain);
    let fields = format!(
        "Content-Encoding: gzip\r\nContent-Length: {}\r\nRepr-Digest: sha-256=:{}:\r\n",
        encoded.len(),
        b64_sha256(&plain)
    );
    let limits = Limits {
        max_decoded: 1000,
        ..Limits::default()
    };
    let mut stream = HttpStream::new(limits);
    stream.data(Direction::Request, GET, 1, 0);
    stream.data(Direction::Response, &response(&fields, &encoded), 2, 0);
    stream.end(ConnectionEnd::Closed, 3);
    let mut transfers = Vec::new();
    stream.take_transfers(&mut transfers);
    let transfer = &transfers[0];
    assert_eq!(transfer.body.decode_failure, Some(DecodeFailure::TooLarge));
    let not_decoded = Outcome::NotCheckable(Unchecked::NotDecoded);
    assert_eq!(outcomes(transfer), vec![not_decoded]);
}

/// Returns the framing error and warning kinds of a response with `fields`
/// and `body`.
fn framing_of(fields: &str, body: &[u8]) -> (Option<&'static str>, Vec<WarningKind>) {
    let transfer = one(GET, &response(fields, body), ConnectionEnd::Closed);
    let kinds = transfer.warnings.iter().map(|w| w.kind).collect();
    assert_eq!(transfer.length_problem(), transfer.body.framing_error);
    (transfer.body.framing_error, kinds)
}

#[test]
fn differing_content_lengths_are_framing_error() {
    let (rule, kinds) = framing_of("Content-Length: 2\r\nContent-Length: 3\r\n", b"ok");
    assert_eq!(rule, Some("several Content-Length values that differ"));
    assert_eq!(kinds, vec![WarningKind::InvalidContentLength]);
}

#[test]
fn equal_content_lengths_are_accepted() {
    let (rule, kinds) = framing_of("Content-Length: 2, 2\r\n", b"ok");
    assert_eq!(rule, None);
    assert!(kinds.is_empty(), "{kinds:?}");
}

#[test]
fn content_length_with_chunked_is_framing_error() {
    let fields = "Content-Length: 2\r\nTransfer-Encoding: chunked\r\n";
    let (rule, kinds) = framing_of(fields, b"2\r\nok\r\n0\r\n\r\n");
    assert_eq!(
        rule,
        Some("Content-Length and Transfer-Encoding both present")
    );
    assert_eq!(kinds, vec![WarningKind::ConflictingFraming]);
}

#[test]
fn content_length_overflow_is_framing_error() {
    let (rule, kinds) = framing_of("Content-Length: 18446744073709551616\r\n", b"ok");
    assert_eq!(
        rule,
        Some("a Content-Length beyond the largest 64-bit number")
    );
    assert_eq!(kinds, vec![WarningKind::InvalidContentLength]);
}

#[test]
fn content_length_max_u64_is_valid() {
    let transfer = one(
        GET,
        &response("Content-Length: 18446744073709551615\r\n", b"ok"),
        ConnectionEnd::CaptureEnded,
    );
    assert_eq!(transfer.body.framing_error, None);
    assert_eq!(transfer.body.declared_length, Some(u64::MAX));
}

#[test]
fn request_with_length_and_chunked_is_framing_error() {
    let request = b"POST /up HTTP/1.1\r\nHost: a.test\r\nContent-Length: 3\r\n\
                    Transfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n";
    let mut stream = HttpStream::new(Limits::default());
    stream.data(Direction::Request, request, 1, 10);
    let reply = response("Content-Length: 2\r\n", b"ok");
    stream.data(Direction::Response, &reply, 2, 20);
    stream.end(ConnectionEnd::Closed, 3);
    let (mut transfers, mut warnings) = (Vec::new(), Vec::new());
    stream.take_transfers(&mut transfers);
    stream.take_warnings(&mut warnings);
    assert_eq!(transfers.len(), 1);
    let rule = Some("Content-Length and Transfer-Encoding both present");
    let request = transfers[0].request.as_ref();
    assert_eq!(request.and_then(|r| r.framing_error), rule);
    assert_eq!(transfers[0].length_problem(), rule);
    let kinds: Vec<_> = warnings.iter().map(|w| w.kind).collect();
    assert_eq!(kinds, vec![WarningKind::ConflictingFraming]);
    assert_eq!(warnings[0].direction, Direction::Request);
}

/// Parses one exchange with a parser that hashes as `hashing` selects.
fn one_hashed(hashing: BodyHashing, request: &[u8], response: &[u8]) -> Transfer {
    let mut stream = HttpStream::with_hashing(Limits::default(), hashing);
    stream.data(Direction::Request, request, 1, 10);
    stream.data(Direction::Response, response, 2, 20);
    stream.end(ConnectionEnd::Closed, 99);
    let mut transfers = Vec::new();
    stream.take_transfers(&mut transfers);
    assert_eq!(transfers.len(), 1, "transfers: {transfers:#?}");
    transfers.remove(0)
}

const POST: &[u8] = b"POST /form HTTP/1.1\r\nHost: example.test\r\nContent-Length: 0\r\n\r\n";

fn md5_of(data: &[u8]) -> Option<[u8; 16]> {
    Some(Md5::digest(data).into())
}

#[test]
fn when_used_post_200_no_md5() {
    let body = b"form accepted";
    let fields = format!("Content-Length: {}\r\n", body.len());
    let transfer = one_hashed(BodyHashing::WhenUsed, POST, &response(&fields, body));
    let content = transfer.body.content.expect("content hashes");
    assert_eq!(content.length, body.len() as u64);
    assert_eq!(content.sha256.to_vec(), Sha256::digest(body).to_vec());
    assert_eq!(content.md5, None);
    assert_eq!(content.sha1, None);
    assert_eq!(content.sha512, None);
}

#[test]
fn every_post_200_has_md5() {
    let body = b"form accepted";
    let fields = format!("Content-Length: {}\r\n", body.len());
    let transfer = one_hashed(BodyHashing::Every, POST, &response(&fields, body));
    let content = transfer.body.content.expect("content hashes");
    assert_eq!(content.md5, md5_of(body));
}

#[test]
fn when_used_get_200_has_md5() {
    let body = b"the downloaded file";
    let fields = format!("Content-Length: {}\r\n", body.len());
    let transfer = one_hashed(BodyHashing::WhenUsed, GET, &response(&fields, body));
    let content = transfer.body.content.expect("content hashes");
    assert_eq!(content.sha256.to_vec(), Sha256::digest(body).to_vec());
    assert_eq!(content.md5, md5_of(body));
}

#[test]
fn when_used_gzip_get_200_decoded_md5() {
    let body = b"compressed download";
    let coded = gzip(body);
    let fields = format!(
        "Content-Length: {}\r\nContent-Encoding: gzip\r\n",
        coded.len()
    );
    let transfer = one_hashed(BodyHashing::WhenUsed, GET, &response(&fields, &coded));
    let content = transfer.body.content.expect("content hashes");
    let decoded = transfer.body.representation.expect("representation hashes");
    assert_eq!(content.md5, md5_of(&coded));
    assert_eq!(decoded.md5, md5_of(body));
}

/// Returns a `206` response carrying `part` as bytes 0 to 9 of 100.
fn partial(fields: &str, part: &[u8]) -> Vec<u8> {
    let mut out = format!(
        "HTTP/1.1 206 Partial Content\r\nContent-Range: bytes 0-9/100\r\n\
         Content-Length: {}\r\n{fields}\r\n",
        part.len()
    )
    .into_bytes();
    out.extend_from_slice(part);
    out
}

#[test]
fn when_used_206_content_md5_only() {
    let part = b"0123456789";
    let fields = format!("Content-MD5: {}\r\n", b64_md5(part));
    let transfer = one_hashed(BodyHashing::WhenUsed, GET, &partial(&fields, part));
    let content = transfer.body.content.as_ref().expect("content hashes");
    assert_eq!(content.md5, md5_of(part));
    assert_eq!(content.sha1, None);
    assert_eq!(content.sha512, None);
    assert_eq!(outcomes(&transfer), vec![Outcome::Verified]);
}

#[test]
fn when_used_206_plain_no_md5() {
    let part = b"0123456789";
    let transfer = one_hashed(BodyHashing::WhenUsed, GET, &partial("", part));
    let content = transfer.body.content.expect("content hashes");
    assert_eq!(content.sha256.to_vec(), Sha256::digest(part).to_vec());
    assert_eq!(content.md5, None);
}

#[test]
fn when_used_unannounced_trailer_md5_checked() {
    let body = b"hello world";
    let chunked = format!(
        "HTTP/1.1 206 Partial Content\r\nContent-Range: bytes 0-10/100\r\n\
         Transfer-Encoding: chunked\r\n\r\n\
         5\r\nhello\r\n6\r\n world\r\n0\r\nContent-Digest: md5=:{}:\r\n\r\n",
        b64_md5(body)
    );
    let transfer = one_hashed(BodyHashing::WhenUsed, GET, chunked.as_bytes());
    let content = transfer.body.content.as_ref().expect("content hashes");
    assert_eq!(content.md5, md5_of(body));
    assert_eq!(outcomes(&transfer), vec![Outcome::Verified]);
}
