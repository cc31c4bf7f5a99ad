use crate::StreamId;
use crate::chunk::chunk_payload_data::{ChunkPayloadData, PayloadProtocolIdentifier};
use crate::util::*;
use shared::error::{Error, Result};

use bytes::{Bytes, BytesMut};
use std::collections::VecDeque;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

/// A chunk of data from the stream
#[derive(Debug, PartialEq)]
pub struct Chunk {
    /// The contents of the chunk
    pub bytes: Bytes,
}

/// Chunks is a set of chunks that share the same SSN
#[derive(Debug, Clone)]
pub struct Chunks {
    /// used only with the ordered chunks
    pub ssn: u16,
    /// The payload protocol identifier shared by every fragment of this message.
    pub ppi: PayloadProtocolIdentifier,
    /// The fragments, in order, that make up one complete message.
    pub chunks: Vec<ChunkPayloadData>,
    /// webrtc-rs-godot patch: the payload bytes of `chunks`, kept so `len` is O(1).
    n_bytes: usize,
    offset: usize,
    index: usize,
    /// Arrival order, used only to decide which of two ready messages came first.
    /// A counter rather than an instant: this is sequencing, not time.
    arrival: u64,
}

impl Chunks {
    /// Whether the reassembled message carries no bytes.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The total length in bytes of the reassembled message.
    pub fn len(&self) -> usize {
        // webrtc-rs-godot patch: kept up to date by `new` and `push` instead of summed on every
        // call (`push` asked on every fragment: n fragments cost n²/2 steps).
        self.n_bytes
    }

    /// Reassemble all fragments into a single freshly-allocated, exactly-sized
    /// buffer with one copy.
    ///
    /// Unlike [`read`](Self::read), this does not round-trip through a
    /// caller-provided scratch buffer, eliminating one full-payload copy on the
    /// receive path (the reassembled message would otherwise be copied into the
    /// scratch buffer and then again into the delivered `BytesMut`). Returns
    /// [`Error::ErrShortBuffer`] when the message exceeds `max_len`, mirroring
    /// `read`'s bound so oversized inbound messages are still rejected.
    pub fn to_payload(&self, max_len: usize) -> Result<BytesMut> {
        let total = self.len();
        if total > max_len {
            return Err(Error::ErrShortBuffer);
        }
        let mut buf = BytesMut::with_capacity(total);
        for c in &self.chunks {
            buf.extend_from_slice(&c.user_data);
        }
        Ok(buf)
    }

    /// Concatenates every fragment into `buf`, returning the number of bytes written.
    ///
    /// # Errors
    ///
    /// Returns [`Error::ErrShortBuffer`](shared::error::Error::ErrShortBuffer) if `buf` cannot
    /// hold the whole message; the partial copy is left in place.
    pub fn read(&self, buf: &mut [u8]) -> Result<usize> {
        let mut n_written = 0;
        for c in &self.chunks {
            let to_copy = c.user_data.len();
            let n = std::cmp::min(to_copy, buf.len() - n_written);
            buf[n_written..n_written + n].copy_from_slice(&c.user_data[..n]);
            n_written += n;
            if n < to_copy {
                return Err(Error::ErrShortBuffer);
            }
        }
        Ok(n_written)
    }

    /// Yields the next slice of the reassembled message, up to `max_length` bytes.
    ///
    /// Advances an internal cursor, so repeated calls walk the message; returns `None` once it is
    /// exhausted.
    pub fn next(&mut self, max_length: usize) -> Option<Chunk> {
        if self.index >= self.chunks.len() {
            return None;
        }

        let mut buf = BytesMut::with_capacity(max_length);

        let mut n_written = 0;
        while self.index < self.chunks.len() {
            let to_copy = self.chunks[self.index].user_data[self.offset..].len();
            let n = std::cmp::min(to_copy, max_length - n_written);
            buf.extend_from_slice(&self.chunks[self.index].user_data[self.offset..self.offset + n]);
            n_written += n;
            if n < to_copy {
                self.offset += n;
                return Some(Chunk {
                    bytes: buf.freeze(),
                });
            }
            self.index += 1;
            self.offset = 0;
        }

        Some(Chunk {
            bytes: buf.freeze(),
        })
    }

    pub(crate) fn new(
        arrival: u64,
        ssn: u16,
        ppi: PayloadProtocolIdentifier,
        chunks: Vec<ChunkPayloadData>,
    ) -> Self {
        let n_bytes = chunks.iter().map(|c| c.user_data.len()).sum();
        Chunks {
            ssn,
            ppi,
            chunks,
            n_bytes,
            offset: 0,
            index: 0,
            arrival,
        }
    }

    pub(crate) fn push(&mut self, chunk: ChunkPayloadData) -> bool {
        // Binary-search the insertion point (fragments are kept in TSN order),
        // which also detects duplicates -- instead of an O(n) dup scan plus a
        // full re-sort of every fragment on each push.
        let idx = self.chunks.partition_point(|c| sna32lt(c.tsn, chunk.tsn));
        if idx < self.chunks.len() && self.chunks[idx].tsn == chunk.tsn {
            return false;
        }
        self.n_bytes += chunk.user_data.len();
        self.chunks.insert(idx, chunk);

        // Check if we now have a complete set
        self.is_complete()
    }

    pub(crate) fn is_complete(&self) -> bool {
        // Condition for complete set
        //   0. Has at least one chunk.
        //   1. Begins with beginningFragment set to true
        //   2. Ends with endingFragment set to true
        //   3. TSN monotinically increase by 1 from beginning to end
        //
        // From RFC 4960 Section 3.3.1:
        //   When a user message is fragmented into multiple chunks, the TSNs are
        //   used by the receiver to reassemble the message.  This means that the
        //   TSNs for each fragment of a fragmented user message MUST be strictly
        //   sequential.
        //
        // webrtc-rs-godot patch: 3. in O(1). `chunks` is sorted by TSN without duplicates
        // (`push`), so its TSNs are consecutive exactly when they span `len() - 1`; this was a
        // walk over every fragment, asked on every push.
        match (self.chunks.first(), self.chunks.last()) {
            (Some(first), Some(last)) => {
                first.beginning_fragment
                    && last.ending_fragment
                    && last.tsn.wrapping_sub(first.tsn) as usize == self.chunks.len() - 1
            }
            _ => false,
        }
    }
}

#[derive(Default, Debug)]
pub(crate) struct ReassemblyQueue {
    pub(crate) si: StreamId,
    pub(crate) next_ssn: u16,
    /// expected SSN for next ordered chunk
    ///
    /// `ordered`/`unordered` are consumed strictly from the front by `read`;
    /// `VecDeque` makes that O(1) instead of `Vec::remove(0)`'s full shift.
    pub(crate) ordered: VecDeque<Chunks>,
    pub(crate) unordered: VecDeque<Chunks>,
    pub(crate) unordered_chunks: Vec<ChunkPayloadData>,
    pub(crate) n_bytes: usize,
    /// webrtc-rs-godot patch: the fragments queued (`ordered`, `unordered` and
    /// `unordered_chunks`), each charged `CHUNK_OVERHEAD` against the receive window.
    n_chunks: usize,
    /// webrtc-rs-godot patch: the window cost of every queue of the association (shared, see
    /// `share_total`), kept up to date by each queue so the association need not sum its
    /// streams per chunk (a peer that opens thousands of streams made that a hot loop), and
    /// this queue's part of it.
    total: Arc<AtomicUsize>,
    reported: usize,
    /// Monotonic counter stamped onto each reassembled message so `read` can tell which of a
    /// ready ordered and a ready unordered message arrived first.
    next_arrival: u64,
}

impl ReassemblyQueue {
    /// From RFC 4960 Sec 6.5:
    ///   The Stream Sequence Number in all the streams MUST start from 0 when
    ///   the association is Established.  Also, when the Stream Sequence
    ///   Number reaches the value 65535 the next Stream Sequence Number MUST
    ///   be set to 0.
    pub(crate) fn new(si: StreamId) -> Self {
        ReassemblyQueue {
            si,
            next_ssn: 0, // From RFC 4960 Sec 6.5:
            ordered: VecDeque::new(),
            unordered: VecDeque::new(),
            unordered_chunks: vec![],
            n_bytes: 0,
            n_chunks: 0,
            total: Arc::default(),
            reported: 0,
            next_arrival: 0,
        }
    }

    /// Queues `chunk` for reassembly (the tests' shorthand: no size limit, errors as `false`).
    #[cfg(test)]
    pub(crate) fn push(&mut self, chunk: ChunkPayloadData) -> bool {
        self.try_push(chunk, usize::MAX).unwrap_or(false)
    }

    /// Queues `chunk` for reassembly; returns whether it completed a message.
    ///
    /// webrtc-rs-godot patch: a message still incomplete with more than `max_message_size` bytes,
    /// or more fragments than such a message can need (`max_fragments`), is an error: no valid
    /// sender makes one, and without the check one message that never ends grew without bound
    /// (the receive window is no bound for it, see `Association::handle_data`). Unordered
    /// fragments are matched around the one that arrived instead of by a scan of every queued
    /// fragment, so a push costs O(log n + fragments of its message).
    pub(crate) fn try_push(&mut self, chunk: ChunkPayloadData, max_message_size: usize) -> Result<bool> {
        let pushed = self.push_chunk(chunk, max_message_size);
        self.sync_total();
        pushed
    }

    fn push_chunk(&mut self, chunk: ChunkPayloadData, max_message_size: usize) -> Result<bool> {
        if chunk.stream_identifier != self.si {
            return Ok(false);
        }

        if chunk.unordered {
            // First, insert into unordered_chunks array (sorted by TSN, no duplicates)
            let idx = self
                .unordered_chunks
                .partition_point(|c| sna32lt(c.tsn, chunk.tsn));
            if self.unordered_chunks.get(idx).is_some_and(|c| c.tsn == chunk.tsn) {
                return Ok(false);
            }
            self.n_bytes += chunk.user_data.len();
            self.n_chunks += 1;
            self.unordered_chunks.insert(idx, chunk);

            // The fragments around it with consecutive TSNs that belong to the same message
            let (first, last, n_bytes) = self.unordered_message_around(idx);
            let complete = self.unordered_chunks[first].beginning_fragment
                && self.unordered_chunks[last].ending_fragment;
            if !complete {
                check_incomplete_message(n_bytes, last - first + 1, max_message_size)?;
                return Ok(false);
            }
            let chunks: Vec<ChunkPayloadData> = self.unordered_chunks.drain(first..=last).collect();
            let arrival = self.next_arrival;
            self.next_arrival += 1;
            self.unordered
                .push_back(Chunks::new(arrival, 0, chunks[0].payload_type, chunks));
            Ok(true)
        } else {
            // This is an ordered chunk
            if sna16lt(chunk.stream_sequence_number, self.next_ssn) {
                return Ok(false);
            }

            // `ordered` is kept sorted by SSN, so binary-search for the chunk
            // set instead of scanning linearly (O(N) per arriving chunk when
            // the application drains slower than data arrives).
            let ssn = chunk.stream_sequence_number;
            let n = chunk.user_data.len();
            let idx = self.ordered.partition_point(|s| sna16lt(s.ssn, ssn));
            if !self.ordered.get(idx).is_some_and(|s| s.ssn == ssn) {
                // If not found, create a new chunkSet and insert it in SSN order
                // (this branch is only reached for ordered chunks).
                let cset = Chunks::new(self.next_arrival, ssn, chunk.payload_type, vec![]);
                self.next_arrival += 1;
                self.ordered.insert(idx, cset);
            }
            let cset = &mut self.ordered[idx];
            let before = cset.chunks.len();
            let complete = cset.push(chunk);
            if cset.chunks.len() == before {
                return Ok(false); // a duplicate
            }
            self.n_bytes += n;
            self.n_chunks += 1;
            if !complete {
                let cset = &self.ordered[idx];
                check_incomplete_message(cset.len(), cset.chunks.len(), max_message_size)?;
            }
            Ok(complete)
        }
    }

    /// webrtc-rs-godot patch: the fragments of the message `unordered_chunks[idx]` belongs to, as
    /// far as they arrived: the run of consecutive TSNs around it, back to a beginning fragment
    /// and on to an ending one. Returns the first and last index and their payload bytes.
    fn unordered_message_around(&self, idx: usize) -> (usize, usize, usize) {
        let c = &self.unordered_chunks;
        let mut n_bytes = c[idx].user_data.len();
        let mut first = idx;
        while !c[first].beginning_fragment
            && first > 0
            && !c[first - 1].ending_fragment
            && c[first - 1].tsn.wrapping_add(1) == c[first].tsn
        {
            first -= 1;
            n_bytes += c[first].user_data.len();
        }
        let mut last = idx;
        while !c[last].ending_fragment
            && last + 1 < c.len()
            && !c[last + 1].beginning_fragment
            && c[last].tsn.wrapping_add(1) == c[last + 1].tsn
        {
            last += 1;
            n_bytes += c[last].user_data.len();
        }
        (first, last, n_bytes)
    }

    pub(crate) fn is_readable(&self) -> bool {
        // Check unordered first
        if !self.unordered.is_empty() {
            // The chunk sets in self.unordered should all be complete.
            return true;
        }

        // Check ordered sets
        if !self.ordered.is_empty() {
            let cset = &self.ordered[0];
            if cset.is_complete() && sna16lte(cset.ssn, self.next_ssn) {
                return true;
            }
        }
        false
    }

    fn readable_unordered_chunks(&self) -> Option<&Chunks> {
        self.unordered.front()
    }

    fn readable_ordered_chunks(&self) -> Option<&Chunks> {
        let ordered = self.ordered.front();
        if let Some(chunks) = ordered {
            if !chunks.is_complete() {
                return None;
            }
            if sna16gt(chunks.ssn, self.next_ssn) {
                return None;
            }
            Some(chunks)
        } else {
            None
        }
    }

    pub(crate) fn read(&mut self) -> Option<Chunks> {
        let chunks = if let (Some(unordered_chunks), Some(ordered_chunks)) = (
            self.readable_unordered_chunks(),
            self.readable_ordered_chunks(),
        ) {
            if unordered_chunks.arrival < ordered_chunks.arrival {
                self.unordered.pop_front().unwrap()
            } else {
                if ordered_chunks.ssn == self.next_ssn {
                    self.next_ssn = self.next_ssn.wrapping_add(1);
                }
                self.ordered.pop_front().unwrap()
            }
        } else {
            // Check unordered first
            if !self.unordered.is_empty() {
                self.unordered.pop_front().unwrap()
            } else if !self.ordered.is_empty() {
                // Now, check ordered
                let chunks = &self.ordered[0];
                if !chunks.is_complete() {
                    return None;
                }
                if sna16gt(chunks.ssn, self.next_ssn) {
                    return None;
                }
                if chunks.ssn == self.next_ssn {
                    self.next_ssn = self.next_ssn.wrapping_add(1);
                }
                self.ordered.pop_front().unwrap()
            } else {
                return None;
            }
        };

        self.subtract_num_bytes(chunks.len());
        self.n_chunks = self.n_chunks.saturating_sub(chunks.chunks.len());
        self.sync_total();

        Some(chunks)
    }

    /// Use last_ssn to locate a chunkSet then remove it if the set has
    /// not been complete
    pub(crate) fn forward_tsn_for_ordered(&mut self, last_ssn: u16) {
        let (num_bytes, num_chunks) = self
            .ordered
            .iter()
            .filter(|s| sna16lte(s.ssn, last_ssn) && !s.is_complete())
            .fold((0, 0), |(n, k), s| (n + s.len(), k + s.chunks.len()));
        self.subtract_num_bytes(num_bytes);
        self.n_chunks = self.n_chunks.saturating_sub(num_chunks);
        self.sync_total();

        self.ordered
            .retain(|s| !sna16lte(s.ssn, last_ssn) || s.is_complete());

        // Finally, forward next_ssn
        if sna16lte(self.next_ssn, last_ssn) {
            self.next_ssn = last_ssn.wrapping_add(1);
        }
    }

    /// Remove all fragments in the unordered sets that contains chunks
    /// equal to or older than `new_cumulative_tsn`.
    /// We know all sets in the r.unordered are complete ones.
    /// Just remove chunks that are equal to or older than new_cumulative_tsn
    /// from the unordered_chunks
    pub(crate) fn forward_tsn_for_unordered(&mut self, new_cumulative_tsn: u32) {
        let mut last_idx: isize = -1;
        for (i, c) in self.unordered_chunks.iter().enumerate() {
            if sna32gt(c.tsn, new_cumulative_tsn) {
                break;
            }
            last_idx = i as isize;
        }
        if last_idx >= 0 {
            for i in 0..(last_idx + 1) as usize {
                self.subtract_num_bytes(self.unordered_chunks[i].user_data.len());
            }
            self.unordered_chunks.drain(..(last_idx + 1) as usize);
            self.n_chunks = self.n_chunks.saturating_sub((last_idx + 1) as usize);
            self.sync_total();
        }
    }

    /// webrtc-rs-godot patch: forgets every queued chunk (the stream's read side was stopped).
    pub(crate) fn discard_all(&mut self) {
        self.ordered.clear();
        self.unordered.clear();
        self.unordered_chunks.clear();
        self.n_bytes = 0;
        self.n_chunks = 0;
        self.sync_total();
    }

    pub(crate) fn subtract_num_bytes(&mut self, n_bytes: usize) {
        if self.n_bytes >= n_bytes {
            self.n_bytes -= n_bytes;
        } else {
            self.n_bytes = 0;
        }
    }

    pub(crate) fn get_num_bytes(&self) -> usize {
        self.n_bytes
    }

    /// webrtc-rs-godot patch: the fragments queued.
    pub(crate) fn get_num_chunks(&self) -> usize {
        self.n_chunks
    }

    /// webrtc-rs-godot patch: what the queue costs the receive window: its payload plus
    /// `CHUNK_OVERHEAD` per fragment.
    pub(crate) fn get_window_cost(&self) -> usize {
        self.n_bytes + self.n_chunks * CHUNK_OVERHEAD
    }

    /// webrtc-rs-godot patch: makes this queue count its window cost in `total` (the
    /// association's), from now on.
    pub(crate) fn share_total(&mut self, total: Arc<AtomicUsize>) {
        self.total.fetch_sub(self.reported, Ordering::Relaxed);
        total.fetch_add(self.reported, Ordering::Relaxed);
        self.total = total;
    }

    /// webrtc-rs-godot patch: brings `total` up to date after a change of this queue.
    fn sync_total(&mut self) {
        let cost = self.get_window_cost();
        if cost >= self.reported {
            self.total.fetch_add(cost - self.reported, Ordering::Relaxed);
        } else {
            self.total.fetch_sub(self.reported - cost, Ordering::Relaxed);
        }
        self.reported = cost;
    }
}

/// webrtc-rs-godot patch: a queue dropped with its stream leaves the association's total.
impl Drop for ReassemblyQueue {
    fn drop(&mut self) {
        self.total.fetch_sub(self.reported, Ordering::Relaxed);
    }
}

/// webrtc-rs-godot patch: what a queued fragment costs beyond its payload, charged against the
/// receive window as usrsctp charges an mbuf per chunk. Counting payload alone let a peer that
/// sends 1-byte fragments make a 1 MiB window hold a million of them, each ~200 B in memory
/// (`ChunkPayloadData` and its `Bytes`).
pub(crate) const CHUNK_OVERHEAD: usize = 128;

/// webrtc-rs-godot patch: the most fragments a message of `max_message_size` bytes needs. Senders
/// cut at their path MTU (~1200 B of payload for WebRTC); 256 B per fragment leaves room for
/// small MTUs, and a few more for a short last fragment.
pub(crate) fn max_fragments(max_message_size: usize) -> usize {
    max_message_size / 256 + 16
}

/// webrtc-rs-godot patch: an incomplete message may grow to `max_message_size` bytes in
/// `max_fragments` fragments, no further.
fn check_incomplete_message(n_bytes: usize, n_fragments: usize, max_message_size: usize) -> Result<()> {
    if n_bytes > max_message_size {
        return Err(Error::OtherSctpErr(format!(
            "the peer sent a message of more than {max_message_size} bytes, the maximum message size"
        )));
    }
    if n_fragments > max_fragments(max_message_size) {
        return Err(Error::OtherSctpErr(format!(
            "the peer cut a message into more than {} fragments",
            max_fragments(max_message_size)
        )));
    }
    Ok(())
}
