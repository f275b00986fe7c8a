pragma circom 2.1.0;

include "bits.circom";

// Fixed-point rescaling: an accumulator at scale 2^(s+SHIFT) is brought back to
// scale 2^s by rounding half up, out = floor((acc + 2^(SHIFT-1)) / 2^SHIFT).
// One decomposition of the shifted accumulator gives the remainder (low SHIFT
// bits, constrained by their booleanity and discarded), the quotient (the bits
// above) and, for ReLU, the sign (the top bit). The compiler's bound analysis
// picks NB and OFFSET so that in + OFFSET always lies in [0, 2^NB).

// RescaleRelu(NB, SHIFT, OFFSET): out = max(0, floor((in + HALF) / 2^SHIFT))
// where OFFSET = HALF + 2^(NB-1) and |in + HALF| < 2^(NB-1), so the top bit is
// 1 exactly when in + HALF >= 0 and the bits below it are then in + HALF.
// Cost: NB + 1 constraints (NB bits, one product for the sign select).
template RescaleRelu(NB, SHIFT, OFFSET) {
    assert(SHIFT < NB);
    signal input in;
    signal output out;
    component d = Decompose(NB);
    d.in <== in + OFFSET;
    var q = 0;
    for (var i = SHIFT; i < NB - 1; i++) {
        q += d.bits[i] * (2 ** (i - SHIFT));
    }
    out <== d.bits[NB - 1] * q;
}

// Rescale(NB, SHIFT, OFFSET, SUB): out = floor((in + OFFSET) / 2^SHIFT) - SUB.
// Signed inputs use OFFSET = HALF + 2^(NB-1) and SUB = 2^(NB-1-SHIFT);
// inputs known to be non-negative use OFFSET = HALF and SUB = 0.
// Cost: NB constraints; `out` is linear in the bits and folds away under --O2
// unless it is a public signal.
template Rescale(NB, SHIFT, OFFSET, SUB) {
    assert(SHIFT <= NB);
    signal input in;
    signal output out;
    component d = Decompose(NB);
    d.in <== in + OFFSET;
    var q = 0;
    for (var i = SHIFT; i < NB; i++) {
        q += d.bits[i] * (2 ** (i - SHIFT));
    }
    out <== q - SUB;
}
