from care_superb.downstream.expert import EmotionExpert


class DownstreamExpert(EmotionExpert):
    task = "emobox"
