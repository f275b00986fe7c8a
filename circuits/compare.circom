pragma circom 2.1.0;

include "bits.circom";

// Max2(NB): out = max(a, b). The top bit of a - b + 2^(NB-1) is 1 exactly when
// a >= b (the compiler's bounds guarantee |a - b| < 2^(NB-1)); out selects.
// Cost: NB + 1 constraints (NB bits, one product for the select).
// A k-element max-pool window is a chain of k - 1 of these.
template Max2(NB) {
    signal input a;
    signal input b;
    signal output out;
    component d = Decompose(NB);
    d.in <== a - b + 2 ** (NB - 1);
    out <== b + d.bits[NB - 1] * (a - b);
}

// ArgMax(N, NB): index of the first maximum of in[0..N-1]. A running maximum
// and its index are updated with one comparison per element; ties keep the
// earlier index, as ONNX ArgMax does by default.
// Cost: (N - 1) * (NB + 2) - 1 constraints: per step NB bits, one product for
// the running maximum and one for the index (the first index select is linear).
template ArgMax(N, NB) {
    signal input in[N];
    signal output out;
    signal m[N];
    signal idx[N];
    component d[N - 1];
    m[0] <== in[0];
    idx[0] <== 0;
    for (var i = 1; i < N; i++) {
        d[i - 1] = Decompose(NB);
        d[i - 1].in <== m[i - 1] - in[i] + 2 ** (NB - 1);
        // keep = 1 when the running maximum is >= in[i].
        var keep = d[i - 1].bits[NB - 1];
        m[i] <== in[i] + keep * (m[i - 1] - in[i]);
        idx[i] <== i + keep * (idx[i - 1] - i);
    }
    out <== idx[N - 1];
}
