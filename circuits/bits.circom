pragma circom 2.1.0;

// Decompose(NB): the NB little-endian bits of `in`, which must lie in [0, 2^NB).
// Cost: NB constraints, one booleanity check per bit. The recomposition
// `sum bits[i]*2^i === in` is linear, so --O2 folds it into the bit checks.
// NB must stay below 253 so the decomposition is unique in the BN254 field.
template Decompose(NB) {
    assert(NB > 0 && NB < 253);
    signal input in;
    signal output bits[NB];
    var lc = 0;
    var e = 1;
    for (var i = 0; i < NB; i++) {
        bits[i] <-- (in >> i) & 1;
        bits[i] * (bits[i] - 1) === 0;
        lc += bits[i] * e;
        e *= 2;
    }
    lc === in;
}

// InRange(NB, LO): constrains LO <= in < LO + 2^NB and outputs in - LO.
// Cost: NB constraints.
template InRange(NB, LO) {
    signal input in;
    signal output shifted;
    component d = Decompose(NB);
    d.in <== in - LO;
    shifted <== in - LO;
}
