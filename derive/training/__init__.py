"""Training a classifier on the generated gradient code (``derive train``, ``derive code --train``).

* datasets.py: digits and iris (scikit-learn's bundled copies, no download), xor, CSV files; the
  stratified test split fixed by the seed; feature scaling from the training split only;
* defaults.py: the network and the settings used when none are given (the one place with the
  fallback while softmax and the log-likelihood cost are not merged);
* loop.py: initialisation, mini-batch stochastic gradient descent with weight decay, the history;
* plot.py: the loss and accuracy curves (matplotlib, Agg backend) as PNG;
* outputs.py: the output directory (curves, trained weights, a spec with them), written as a set;
* program.py: the standalone classifier program for a student to read and run.

The pieces the standalone program needs (split, scaling, initialisation, one epoch of SGD, the
update) are plain NumPy functions; program.py copies their source, so the program and
``derive train`` run the same code and reach the same accuracies for the same seed.
"""
