"""The papers' benchmark datasets in their published layouts.

Raw audio-visual releases (CREMA-D, AVE, Kinetics-Sounds, UCF101) are
prepared once with ``polymodal data prepare`` (:mod:`.prepare`) and read by
the DataModules of :mod:`.av_datamodules`; CMU-MOSEI / MOSI
(:mod:`.multibench_affect`) and AV-MNIST (:mod:`.avmnist`) load MultiBench's
preprocessed files directly.
"""
