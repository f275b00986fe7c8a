pragma circom 2.1.0;

// PackInputs(N, NB, LO, PER, PACKS): packs N range-checked inputs, each with
// in - LO in [0, 2^NB) (checked by InRange), PER to a field element, little
// end first. PER * NB <= 248, so a pack never wraps the field and packing is
// injective. Cost: none of its own. Each pack is a linear combination that
// --O2 folds into its neighbours: the Poseidon rounds of a commitment, or,
// for a pack that is a public output, the bit checks of the inputs' InRange.
template PackInputs(N, NB, LO, PER, PACKS) {
    signal input in[N];
    signal output packs[PACKS];
    for (var p = 0; p < PACKS; p++) {
        var lc = 0;
        var e = 1;
        for (var j = p * PER; j < N && j < (p + 1) * PER; j++) {
            lc += (in[j] - LO) * e;
            e *= 2 ** NB;
        }
        packs[p] <== lc;
    }
}
