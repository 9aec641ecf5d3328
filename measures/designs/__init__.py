"""Study designs as data (studies/*.yaml): which ToCs, indicators, contract, design and time axis a study has."""
