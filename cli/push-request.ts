/**
 * What `listen` sends: the body of a Pub/Sub push request for one pulled message, in the default
 * "wrapped" format (https://cloud.google.com/pubsub/docs/push, "How push endpoints receive
 * messages"). Pub/Sub sends the message id and publish time twice, in camelCase and snake_case,
 * the data base64-encoded, `deliveryAttempt` only on subscriptions with a dead-letter policy
 * (https://cloud.google.com/pubsub/docs/handling-failures), and a success status is one of 102,
 * 200, 201, 202 and 204; every other answer is a nack.
 */

/** The parts of a pulled message (`Message` of @google-cloud/pubsub) a push request carries. */
export interface PulledForPush {
  id: string;
  data: Buffer;
  attributes: Readonly<Record<string, string>>;
  publishTime: { toISOString(): string };
  orderingKey?: string | undefined;
  /** 0 when the subscription has no dead-letter policy. */
  deliveryAttempt: number;
}

export interface PushRequestJson {
  message: {
    attributes: Record<string, string>;
    data: string;
    messageId: string;
    message_id: string;
    publishTime: string;
    publish_time: string;
    orderingKey?: string;
  };
  subscription: string;
  deliveryAttempt?: number;
}

/** `subscription` is the full name, `projects/<project>/subscriptions/<id>`. */
export function pushRequestBody(message: PulledForPush, subscription: string): PushRequestJson {
  const publishTime = message.publishTime.toISOString();
  return {
    message: {
      attributes: { ...message.attributes },
      data: message.data.toString('base64'),
      messageId: message.id,
      message_id: message.id,
      publishTime,
      publish_time: publishTime,
      ...(message.orderingKey ? { orderingKey: message.orderingKey } : {}),
    },
    subscription,
    ...(message.deliveryAttempt > 0 ? { deliveryAttempt: message.deliveryAttempt } : {}),
  };
}

/** The statuses Pub/Sub takes as an acknowledgement (fetch never surfaces 102). */
const ACK_STATUSES = new Set([102, 200, 201, 202, 204]);

export function acknowledges(status: number): boolean {
  return ACK_STATUSES.has(status);
}
